/**
 * A message appended to a topic partition (POST body, JSON array of these): KafkaJS's shape.
 * `timestamp` is the record's creation time in ms (Kafka's CreateTime); without it the server
 * stamps its append time. A compacted topic refuses a null key.
 */
export interface AppendedTopicRecord {
  key: string | null
  value: unknown
  headers?: Record<string, string>
  timestamp?: number
}

/**
 * A topic record as reads return it: the stored message with its partition `offset` and
 * `timestamp` first. After compaction a partition's offsets have gaps, so a reader needs them.
 */
export interface ReadTopicRecord {
  offset: number
  timestamp: number
  key: string | null
  value: unknown
  headers?: Record<string, string>
}
