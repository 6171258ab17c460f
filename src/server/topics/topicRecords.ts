import { RecordTooLargeError } from '../../log/errors.ts'
import { defaultTopicConfig, isCompacted, type TopicConfig } from '../../log/TopicConfig.ts'
import type { StoredRecord, StreamRow } from '../engine/streamRows.ts'
import { topicNameOf } from './partitionSettings.ts'

const decoder = new TextDecoder()
const encoder = new TextEncoder()

/** A topic-partition's config, stored as JSON on its stream row. */
export function topicConfigOf(row: StreamRow): TopicConfig | undefined {
  return row.topic === null ? undefined : (JSON.parse(row.topic) as { config: TopicConfig }).config
}

/**
 * A message appended to a topic partition: KafkaJS's shape, `{ key, value, headers, timestamp }`.
 * Stored as exactly key, value and headers (anything else, such as a client's own `offset`, is
 * refused), with the key kept apart for compaction. `timestamp` is the record's creation time in
 * ms (Kafka's CreateTime, what a device that was offline must keep); without it the record gets
 * its append time. A compacted topic refuses keyless records, as Kafka does.
 */
export function topicRecordOf(
  row: StreamRow,
  config: TopicConfig | undefined,
  data: Uint8Array,
  now: number,
): { data: Uint8Array; key: string | null; timestamp: number | undefined } | Error {
  const message = JSON.parse(decoder.decode(data)) as unknown
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    return new Error('A topic record must be an object: { "key", "value", "headers" }')
  }
  const {
    key = null,
    value = null,
    headers,
    timestamp,
    ...rest
  } = message as Record<string, unknown>
  const extra = Object.keys(rest)
  if (extra.length > 0) {
    return new Error(
      `A topic record has only key, value, headers and timestamp, not ${extra.join(', ')}`,
    )
  }
  if (timestamp !== undefined && (!Number.isSafeInteger(timestamp) || (timestamp as number) < 0)) {
    return new Error('A topic record\'s "timestamp" must be ms since the epoch (an integer >= 0)')
  }
  const ahead =
    config?.['message.timestamp.after.max.ms'] ??
    defaultTopicConfig['message.timestamp.after.max.ms']
  if (timestamp !== undefined && (timestamp as number) > now + ahead) {
    return new Error(
      `A topic record's "timestamp" is more than ${ahead} ms ahead of the server's clock (message.timestamp.after.max.ms)`,
    )
  }
  if (key !== null && typeof key !== 'string') {
    return new Error('A topic record\'s "key" must be a string or null')
  }
  // Keys are compared as UTF-8 bytes (compaction); a lone surrogate has no UTF-8 form, and two
  // different such keys would become one.
  if (key !== null && !isWellFormed(key)) {
    return new Error('A topic record\'s "key" must be well-formed Unicode (no lone surrogates)')
  }
  const validHeaders =
    headers === undefined ||
    (headers !== null &&
      typeof headers === 'object' &&
      !Array.isArray(headers) &&
      Object.values(headers).every((v) => typeof v === 'string'))
  if (!validHeaders) return new Error('A topic record\'s "headers" must map names to strings')
  if (key === null && config && isCompacted(config)) {
    return new Error(`Topic partition ${row.path} is compacted: every record needs a string "key"`)
  }
  const stored = headers === undefined ? { key, value } : { key, value, headers }
  const encoded = encoder.encode(JSON.stringify(stored))
  const limit = config?.['max.message.bytes']
  if (limit !== undefined && encoded.length > limit) {
    return new RecordTooLargeError(
      `A record of ${encoded.length} bytes is over topic ${topicNameOf(row)}'s max.message.bytes (${limit})`,
    )
  }
  return {
    data: encoded,
    key,
    timestamp: timestamp as number | undefined,
  }
}

/**
 * A topic record as reads return it: the stored message with its partition `offset` and its
 * `timestamp` (creation or append time) first. Readers need the offset: after compaction the offsets of a
 * partition have gaps, so counting records would not give them.
 */
export function topicRecordJson(record: StoredRecord): Uint8Array {
  const stored = decoder.decode(record.data) // always a non-empty object: {"key":...}
  return encoder.encode(
    `{"offset":${record.offset},"timestamp":${record.timestamp},${stored.slice(1)}`,
  )
}

/** `String.prototype.isWellFormed` (Node 20, ES2024), which this project's ES2023 lib lacks. */
const isWellFormed = (s: string): boolean =>
  (s as string & { isWellFormed(): boolean }).isWellFormed()
