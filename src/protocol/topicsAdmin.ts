/** The topics admin API (`/admin/topics`): duality's layer over Durable Streams, Kafka's names. */

/** A topic config entry, as KafkaJS's `configEntries` (`cleanup.policy`, `retention.ms`, ...). */
export interface ConfigEntryBody {
  name: string
  value: string
}

/** `PUT /admin/topics/:topic` */
export interface CreateTopicRequest {
  numPartitions?: number
  configEntries?: ConfigEntryBody[]
}

/** `GET /admin/topics/:topic`, and the answer of a creation. */
export interface TopicDescription<Config extends object = Record<string, string | number>> {
  topic: string
  /**
   * Changes when the topic is deleted and created again: a follower (sync) that copied another
   * incarnation of the topic must start over rather than merge two histories.
   */
  id: string
  numPartitions: number
  config: Config
  partitions: {
    partition: number
    /** The partition's Durable Streams path. */
    path: string
    startOffset: number
    nextOffset: number
    /** The same positions as wire offsets, for Durable Streams clients. */
    start: string
    next: string
  }[]
}

/** `GET /admin/topics` */
export interface TopicList {
  topics: string[]
}
