import { InvalidArgumentError } from './errors.ts'
import type { AppendRequest } from './appendTransaction.ts'
import type { TopicRow } from './LogStorage.ts'
import { recordSize } from './RecordBatch.ts'
import type { RecordHeaders } from './record.ts'

/** A record as the leader stored it: its offset, and its value as JSON text (null: tombstone). */
export interface FollowerRecord {
  offset: number
  timestamp: number
  key: string | null
  value: string | null
  headers?: RecordHeaders | null
}

/**
 * The append request that copies a leader's records into a follower partition with the leader's
 * offsets (Kafka's appendAsFollower). The records come already stored by the leader, so they
 * are not re-validated against the topic's limits: the follower keeps what the leader kept.
 */
export function followerRequest(
  topic: TopicRow,
  partition: number,
  records: readonly FollowerRecord[],
): AppendRequest {
  if (!Number.isInteger(partition) || partition < 0 || partition >= topic.numPartitions) {
    throw new InvalidArgumentError(`Topic "${topic.name}" has no partition ${partition}`)
  }
  const inputs = records.map((r) => ({
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key,
    value: r.value,
    headers: r.headers ?? null,
  }))
  const sizes = inputs.map((r) => recordSize(r.key, r.value, r.headers))
  return [
    {
      topic,
      parts: new Map([[partition, { records: inputs, sizes }]]),
      json: inputs.every((r) => r.value === null || typeof r.value === 'string'),
    },
  ]
}
