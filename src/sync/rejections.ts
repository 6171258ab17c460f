import type { DualityError, DualityErrorJSON } from '../log/errors.ts'
import type { Log } from '../log/Log.ts'
import type { TopicSpec } from '../log/Admin.ts'
import type { RecordHeaders } from '../log/record.ts'

/**
 * Where a synced topic's refused sends go: one compacted local topic per synced topic, one record
 * per refused outbox record (key `<partition>:<offset>`), removed by a tombstone when the app
 * dismisses it. Local only: it is never pushed, and every tab of the database reads the same one.
 */
export const rejectionsTopic = (topic: string): string => `__rejected.${topic}`

/** The topic spec of a synced topic's rejections: kept until dismissed, one record per key. */
export const rejectionsTopicSpec = (topic: string): TopicSpec => ({
  topic: rejectionsTopic(topic),
  numPartitions: 1,
  configEntries: [
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'retention.ms', value: '-1' },
  ],
})

/**
 * A send the server refused for good: the record as it was sent (its value as its JSON text, as
 * it waited in the outbox), where it waited, and the server's reason. It left the outbox: it is
 * not pending, views no longer show it, and it is never sent again unless the app sends it anew.
 */
export interface Rejection {
  topic: string
  /** The outbox partition and offset the record waited at. */
  partition: number
  offset: number
  key: string | null
  /** The value's JSON text (null: a tombstone). */
  value: string | null
  headers: RecordHeaders | null
  /** The record's own timestamp (its creation time). */
  timestamp: number
  /** The server's refusal: `code` (e.g. TOPIC_AUTHORIZATION_FAILED, INVALID_RECORD, MESSAGE_TOO_LARGE, WRONG_EXPECTED_OFFSET) and its message. */
  error: DualityErrorJSON
  /** When this device learnt of the refusal (ms since the epoch). */
  rejectedAt: number
}

/** A refused outbox record, as the pusher has it. */
export interface RefusedRecord {
  offset: number
  key: string | null
  value: string | null
  headers: RecordHeaders | null
  timestamp: number
}

const keyOf = (partition: number, offset: number) => `${partition}:${offset}`

/**
 * Writes the refusals of outbox records in one append. Written before the pusher moves past them,
 * so a crash in between refuses them again under the same keys: the compacted topic (and
 * `readRejections`, which keeps the last record of each key) shows each once.
 */
export async function recordRejections(
  log: Log,
  topic: string,
  partition: number,
  records: readonly RefusedRecord[],
  error: DualityError,
  now = Date.now(),
): Promise<Rejection[]> {
  const rejections = records.map((r): Rejection => ({
    topic,
    partition,
    offset: r.offset,
    key: r.key,
    value: r.value,
    headers: r.headers,
    timestamp: r.timestamp,
    error: error.toJSON(),
    rejectedAt: now,
  }))
  await log.producer().send({
    topic: rejectionsTopic(topic),
    messages: rejections.map((r) => ({ key: keyOf(r.partition, r.offset), value: r })),
  })
  return rejections
}

/** The refusals of a synced topic not dismissed yet, oldest first (outbox partition, offset). */
export async function readRejections(log: Log, topic: string): Promise<Rejection[]> {
  const from = rejectionsTopic(topic)
  const [ends] = await log.offsets(from)
  const latest = new Map<string, Rejection | null>()
  for (let offset = ends!.low; offset < ends!.high;) {
    const chunk = await log.fetch({ topic: from, partition: 0, offset })
    for (const r of chunk.records) latest.set(r.key as string, r.value as Rejection | null)
    if (chunk.nextOffset <= offset) break
    offset = chunk.nextOffset
  }
  return [...latest.values()]
    .filter((r): r is Rejection => r !== null)
    .sort((a, b) => a.partition - b.partition || a.offset - b.offset)
}

/** Removes refusals the app has dealt with (each by its outbox partition and offset). */
export async function dismissRejections(
  log: Log,
  topic: string,
  which: readonly { partition: number; offset: number }[],
): Promise<void> {
  if (which.length === 0) return
  await log.producer().send({
    topic: rejectionsTopic(topic),
    messages: which.map((r) => ({ key: keyOf(r.partition, r.offset), value: null })),
  })
}
