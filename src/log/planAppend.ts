import { InvalidOffsetError } from './errors.ts'
import type { BatchRow, PartitionRow, SegmentRow } from './LogStorage.ts'
import { packBatches } from './RecordBatch.ts'
import type { RecordInput } from './record.ts'
import type { TopicConfig } from './TopicConfig.ts'

export interface AppendPlan {
  partition: PartitionRow
  batches: BatchRow[]
  /** Segments that were active and are now closed. */
  closed: SegmentRow[]
}

export function emptySegment(
  topic: string,
  partition: number,
  baseOffset: number,
  now: number,
): SegmentRow {
  return {
    topic,
    partition,
    baseOffset,
    lastOffset: baseOffset - 1,
    bytes: 0,
    records: 0,
    maxTimestamp: -Infinity,
    createdAt: now,
  }
}

/**
 * Whether a segment is segment.ms old: its age counts from its first record, so an empty one never
 * is. Appends roll such a segment, and so does the cleaner when no append comes (Cleaner.rollIdle).
 */
export const agedOut = (s: SegmentRow, config: TopicConfig, now: number): boolean =>
  s.records > 0 && now - s.createdAt >= config['segment.ms']

const full = (s: SegmentRow, config: TopicConfig, now: number): boolean =>
  s.records > 0 &&
  (s.bytes >= config['segment.bytes'] ||
    s.records >= config['segment.records'] ||
    agedOut(s, config, now))

/**
 * Appends records to a partition head: assigns dense offsets from `nextOffset` (or keeps the
 * increasing offsets a follower's records carry), rolls segments when they fill, and packs rows.
 * Pure: the caller read `state` in the same transaction it writes the plan.
 */
export function planAppend(
  state: PartitionRow,
  config: TopicConfig,
  records: readonly RecordInput[],
  sizes: readonly number[],
  now: number,
  maxRowBytes: number,
  json: boolean,
): AppendPlan {
  const { topic, partition } = state
  let expected = state.nextOffset
  for (const r of records) {
    if (r.offset === undefined) break
    if (!Number.isSafeInteger(r.offset) || r.offset < expected) {
      throw new InvalidOffsetError(
        `A follower append to ${topic}-${partition} must continue at offset ${expected} or later, ` +
          `in increasing order; got ${r.offset}`,
      )
    }
    expected = r.offset + 1
  }
  // An empty segment's age starts with its first record, so an idle log does not roll at once.
  let active =
    state.active.records === 0 ? { ...state.active, createdAt: now } : { ...state.active }
  let nextOffset = state.nextOffset
  let bytes = state.bytes
  const batches: BatchRow[] = []
  const closed: SegmentRow[] = []
  let i = 0
  while (i < records.length) {
    if (full(active, config, now)) {
      closed.push(active)
      active = emptySegment(topic, partition, nextOffset, now)
    }
    // A segment takes at least one record, then as many as fit its byte and record limits.
    let j = i
    let segmentBytes = active.bytes
    let segmentRecords = active.records
    do {
      segmentBytes += sizes[j]!
      segmentRecords++
      j++
    } while (
      j < records.length &&
      segmentBytes + sizes[j]! <= config['segment.bytes'] &&
      segmentRecords < config['segment.records']
    )
    const rows = packBatches(
      topic,
      partition,
      nextOffset,
      records.slice(i, j),
      sizes.slice(i, j),
      maxRowBytes,
      json,
    )
    for (const row of rows) {
      batches.push(row)
      active.bytes += row.bytes
      bytes += row.bytes
      if (row.maxTimestamp > active.maxTimestamp) active.maxTimestamp = row.maxTimestamp
    }
    active.records += j - i
    nextOffset =
      records[j - 1]!.offset === undefined ? nextOffset + (j - i) : records[j - 1]!.offset! + 1
    active.lastOffset = nextOffset - 1
    i = j
  }
  return { partition: { ...state, nextOffset, bytes, active }, batches, closed }
}
