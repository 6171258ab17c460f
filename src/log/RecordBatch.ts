import type { BatchRow } from './LogStorage.ts'
import type { LogRecord, RecordHeaders, RecordInput, RecordKey, RecordValue } from './record.ts'
import { utf8Length } from './utf8.ts'

/** Per-record framing counted in sizes, like Kafka's varint offset delta, timestamp and lengths. */
const RECORD_OVERHEAD = 16
/** Kafka's RecordBatch header size; counted once per stored row. */
export const BATCH_OVERHEAD = 61

const fieldSize = (v: string | Uint8Array | null): number =>
  v === null ? 0 : typeof v === 'string' ? utf8Length(v) : v.byteLength

/** The size a record counts for: max.message.bytes, segment.bytes and retention.bytes use it. */
export function recordSize(
  key: RecordKey,
  value: RecordValue,
  headers: RecordHeaders | null,
): number {
  let size = RECORD_OVERHEAD + fieldSize(key) + fieldSize(value)
  if (headers) for (const name in headers) size += utf8Length(name) + fieldSize(headers[name]!)
  return size
}

/**
 * Packs records with consecutive offsets starting at `baseOffset` into rows of at most `maxRowBytes`
 * (Chromium moves values over ~64 KiB to blob files, which is much slower).
 */
export function packBatches(
  topic: string,
  partition: number,
  baseOffset: number,
  records: readonly RecordInput[],
  sizes: readonly number[],
  maxRowBytes: number,
): BatchRow[] {
  const rows: BatchRow[] = []
  let start = 0
  while (start < records.length) {
    let bytes = BATCH_OVERHEAD
    let end = start
    do {
      bytes += sizes[end]!
      end++
    } while (end < records.length && bytes + sizes[end]! <= maxRowBytes)
    const n = end - start
    const timestamps = new Array<number>(n)
    const keys = new Array<RecordKey>(n)
    const values = new Array<RecordValue>(n)
    let headers: (RecordHeaders | null)[] | null = null
    let maxTimestamp = -Infinity
    for (let i = 0; i < n; i++) {
      const r = records[start + i]!
      timestamps[i] = r.timestamp
      if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp
      keys[i] = r.key
      values[i] = r.value
      if (r.headers) (headers ??= new Array<RecordHeaders | null>(n).fill(null))[i] = r.headers
    }
    const first = baseOffset + start
    rows.push({
      topic,
      partition,
      baseOffset: first,
      lastOffset: first + n - 1,
      maxTimestamp,
      bytes,
      deltas: null,
      timestamps,
      keys,
      values,
      headers,
    })
    start = end
  }
  return rows
}

export function recordCount(row: BatchRow): number {
  return row.timestamps.length
}

export function recordOffset(row: BatchRow, i: number): number {
  return row.deltas === null ? row.baseOffset + i : row.baseOffset + row.deltas[i]!
}

export function batchRecord(row: BatchRow, i: number): LogRecord {
  return {
    offset: recordOffset(row, i),
    timestamp: row.timestamps[i]!,
    key: row.keys[i]!,
    value: row.values[i]!,
    headers: row.headers?.[i] ?? null,
  }
}

/**
 * Builds a row from chosen records of existing rows (compaction). Offsets are kept; the row becomes
 * sparse, so it stores each record's delta from its first offset.
 */
export function rebuildBatch(
  topic: string,
  partition: number,
  picks: readonly { row: BatchRow; index: number }[],
  deleteHorizon: number | undefined,
): BatchRow {
  const first = picks[0]!
  const baseOffset = recordOffset(first.row, first.index)
  const n = picks.length
  const deltas = new Array<number>(n)
  const timestamps = new Array<number>(n)
  const keys = new Array<RecordKey>(n)
  const values = new Array<RecordValue>(n)
  let headers: (RecordHeaders | null)[] | null = null
  let maxTimestamp = -Infinity
  let bytes = BATCH_OVERHEAD
  let lastOffset = baseOffset
  for (let i = 0; i < n; i++) {
    const { row, index } = picks[i]!
    const offset = recordOffset(row, index)
    lastOffset = offset
    deltas[i] = offset - baseOffset
    timestamps[i] = row.timestamps[index]!
    if (timestamps[i]! > maxTimestamp) maxTimestamp = timestamps[i]!
    keys[i] = row.keys[index]!
    values[i] = row.values[index]!
    const h = row.headers?.[index] ?? null
    if (h) (headers ??= new Array<RecordHeaders | null>(n).fill(null))[i] = h
    bytes += recordSize(keys[i]!, values[i]!, h)
  }
  const batch: BatchRow = {
    topic,
    partition,
    baseOffset,
    lastOffset,
    maxTimestamp,
    bytes,
    deltas,
    timestamps,
    keys,
    values,
    headers,
  }
  if (deleteHorizon !== undefined) batch.deleteHorizon = deleteHorizon
  return batch
}
