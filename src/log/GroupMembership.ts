/** A partition of a topic. */
export interface TopicPartition {
  topic: string
  partition: number
}

export interface MembershipHandlers {
  /** Partitions this member now owns: it starts each from the group's committed offset. */
  assigned(partitions: TopicPartition[]): void
  /** Partitions this member must give up: resolves once it stopped them and committed. */
  revoked(partitions: TopicPartition[]): Promise<void>
}

export interface GroupMember {
  groupId: string
  subscriptions: { topic: string; numPartitions: number }[]
}

/**
 * How a consumer learns which partitions it owns. In one process the consumer owns everything it
 * subscribes to (`soloMembership`); across tabs, the worker runtime's Web Locks coordinator
 * splits partitions between the group's members and moves them when a member leaves or dies.
 * Whatever the implementation, a partition is owned by at most one member at a time, and a member
 * gives one up only after committing what it processed.
 */
export interface GroupMembership {
  join(member: GroupMember, handlers: MembershipHandlers): Promise<{ leave(): Promise<void> }>
}

export const soloMembership: GroupMembership = {
  async join({ subscriptions }, handlers) {
    handlers.assigned(
      subscriptions.flatMap(({ topic, numPartitions }) =>
        Array.from({ length: numPartitions }, (_, partition) => ({ topic, partition })),
      ),
    )
    return { leave: async () => undefined }
  },
}
