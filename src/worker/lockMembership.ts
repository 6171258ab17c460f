import type {
  GroupMember,
  GroupMembership,
  MembershipHandlers,
  TopicPartition,
} from '../log/GroupMembership.ts'

export interface LockMembershipOptions {
  /** How often a member looks at who is alive (default 250 ms; changes are also announced). */
  pollMs?: number
}

const tpKey = (tp: TopicPartition) => `${tp.topic}/${tp.partition}`

/**
 * Consumer groups across tabs, without SharedWorker or a leader, on the Web Locks API:
 * - every member holds a lock named after its group, id and topics for as long as it lives; the
 *   browser releases it when the tab closes or the worker dies, so `navigator.locks.query()` is
 *   the live member list;
 * - every member computes the same round-robin assignment from that list (per topic, members
 *   sorted by id);
 * - a member consumes a partition only while it holds that partition's lock, and releases it only
 *   after its consumer committed; the next owner's `ifAvailable` request then succeeds.
 * So a partition never has two owners, and a dead member's partitions move within one poll.
 */
export function lockMembership(
  scope: string,
  options: LockMembershipOptions = {},
): GroupMembership {
  const pollMs = options.pollMs ?? 250
  return {
    async join(member: GroupMember, handlers: MembershipHandlers) {
      const locks = navigator.locks
      const group = `duality:${scope}:group:${encodeURIComponent(member.groupId)}`
      const memberId = crypto.randomUUID()
      const topics = member.subscriptions.map((s) => s.topic).sort()
      const memberPrefix = `${group}:member:`
      const memberLock = `${memberPrefix}${memberId}:${topics.join(',')}`
      const channel = new BroadcastChannel(group)
      const held = new Map<string, { tp: TopicPartition; release: () => void }>()
      let leaving = false

      const hold = (name: string, ifAvailable: boolean): Promise<(() => void) | null> =>
        new Promise((granted) => {
          void locks
            .request(name, { ifAvailable }, (lock) => {
              if (!lock) return granted(null)
              return new Promise<void>((release) => granted(release))
            })
            .catch(() => granted(null))
        })

      const releaseMember = await hold(memberLock, false)

      const members = async (): Promise<{ id: string; topics: string[] }[]> => {
        const { held: all = [] } = await locks.query()
        const seen = new Map<string, string[]>()
        for (const lock of all) {
          const name = lock.name ?? ''
          if (!name.startsWith(memberPrefix)) continue
          const [id, list = ''] = name.slice(memberPrefix.length).split(':')
          seen.set(id!, list.split(','))
        }
        return [...seen]
          .map(([id, t]) => ({ id, topics: t }))
          .sort((a, b) => (a.id < b.id ? -1 : 1))
      }

      const desired = (alive: { id: string; topics: string[] }[]): Map<string, TopicPartition> => {
        const mine = new Map<string, TopicPartition>()
        for (const { topic, numPartitions } of member.subscriptions) {
          const subscribers = alive.filter((m) => m.topics.includes(topic)).map((m) => m.id)
          const index = subscribers.indexOf(memberId)
          if (index < 0) continue
          for (let p = index; p < numPartitions; p += subscribers.length) {
            const tp = { topic, partition: p }
            mine.set(tpKey(tp), tp)
          }
        }
        return mine
      }

      const partitionLock = (tp: TopicPartition) => `${group}:partition:${tp.topic}:${tp.partition}`

      const release = async (keys: string[], announce: boolean) => {
        const gone = keys.map((k) => held.get(k)!).filter(Boolean)
        if (gone.length === 0) return
        await handlers.revoked(gone.map((g) => g.tp))
        for (const key of keys) {
          held.get(key)?.release()
          held.delete(key)
        }
        if (announce) channel.postMessage('changed')
      }

      // One rebalance at a time; a request during one runs another right after.
      let running: Promise<void> | null = null
      let again = false
      const rebalance = (): Promise<void> => {
        if (running) {
          again = true
          return running
        }
        running = (async () => {
          do {
            again = false
            if (leaving) return
            const want = desired(await members())
            await release(
              [...held.keys()].filter((k) => !want.has(k)),
              true,
            )
            const gained: TopicPartition[] = []
            for (const [key, tp] of want) {
              if (held.has(key) || leaving) continue
              // Busy: its previous owner has not let go yet; the next round tries again.
              const releaseLock = await hold(partitionLock(tp), true)
              if (!releaseLock) continue
              if (leaving) {
                releaseLock()
                continue
              }
              held.set(key, { tp, release: releaseLock })
              gained.push(tp)
            }
            if (gained.length > 0) handlers.assigned(gained)
          } while (again)
        })().finally(() => {
          running = null
        })
        return running
      }

      // A failed round (a lock query refused mid-shutdown) is retried by the next one.
      const tick = () => void rebalance().catch(() => undefined)
      channel.onmessage = tick
      const timer = setInterval(tick, pollMs)
      channel.postMessage('changed')
      await rebalance()

      return {
        async leave() {
          leaving = true
          clearInterval(timer)
          await running
          await release([...held.keys()], false)
          releaseMember?.()
          channel.postMessage('changed')
          channel.close()
        },
      }
    },
  }
}
