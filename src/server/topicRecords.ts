import { isCompacted, type TopicConfig } from '../log/TopicConfig.ts'
import type { StreamRow } from './ServerStorage.ts'

const decoder = new TextDecoder()

/** A topic-partition's config, stored as JSON on its stream row. */
export function topicConfigOf(row: StreamRow): TopicConfig | undefined {
  return row.topic === null ? undefined : (JSON.parse(row.topic) as { config: TopicConfig }).config
}

/**
 * The compaction key of a topic record. Topic partitions are JSON streams whose messages are
 * `{ "key": string | null, "value": ..., "headers"?: {...} }` (KafkaJS's message shape); a
 * compacted topic refuses keyless records, as Kafka does.
 */
export function recordKeyOf(row: StreamRow, data: Uint8Array): string | null | Error {
  const config = topicConfigOf(row)
  const message = JSON.parse(decoder.decode(data)) as unknown
  const key =
    message !== null && typeof message === 'object' && !Array.isArray(message)
      ? (message as { key?: unknown }).key
      : undefined
  if (key !== undefined && key !== null && typeof key !== 'string') {
    return new Error('A topic record\'s "key" must be a string or null')
  }
  if ((key === undefined || key === null) && config && isCompacted(config)) {
    return new Error(`Topic "${row.path}" is compacted: every record needs a string "key"`)
  }
  return key ?? null
}
