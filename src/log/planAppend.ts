import { InvalidOffsetError } from './errors.ts'
import type { BatchRow, PartitionRow, SegmentRow } from './LogStorage.ts'
import { BATCH_OVERHEAD, packBatches } from './RecordBatch.ts'
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
 * A segment's bytes and the bytes of the row being packed (0: none yet) after one more record of
 * `size`: a record that does not fit the row starts a new one, which counts its header.
 */
function addRecord(
  segmentBytes: number,
  row: number,
  size: number,
  maxRowBytes: number,
): { bytes: number; row: number } {
  if (row === 0 || row + size > maxRowBytes)
    return { bytes: segmentBytes + BATCH_OVERHEAD + size, row: BATCH_OVERHEAD + size }
  return { bytes: segmentBytes + size, row: row + size }
}

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
  const limit = config['segment.bytes']
  let i = 0
  while (i < records.length) {
    // Kafka rolls before an append that would take the segment past segment.bytes, unless the
    // segment is empty (UnifiedLog.maybeRoll: size > segment.bytes - messagesSize): a segment
    // grows past it only with its first record. The unit here is the record, not the send.
    if (
      full(active, config, now) ||
      (active.records > 0 && active.bytes + BATCH_OVERHEAD + sizes[i]! > limit)
    ) {
      closed.push(active)
      active = emptySegment(topic, partition, nextOffset, now)
    }
    // The segment takes this record, then more while they fit its byte and record limits, each
    // counted with the rows it will be stored in (packBatches' packing, a header per row).
    let j = i
    let packed = addRecord(active.bytes, 0, sizes[j++]!, maxRowBytes)
    while (j < records.length && active.records + (j - i) < config['segment.records']) {
      const next = addRecord(packed.bytes, packed.row, sizes[j]!, maxRowBytes)
      if (next.bytes > limit) break
      packed = next
      j++
    }
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
