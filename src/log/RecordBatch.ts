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
 * Packs records with consecutive offsets starting at `baseOffset` (or the offsets they carry, for a
 * follower) into rows of at most `maxRowBytes`.
 * With `json`, every value is JSON text and the row stores them as one JSON array.
 */
export function packBatches(
  topic: string,
  partition: number,
  baseOffset: number,
  records: readonly RecordInput[],
  sizes: readonly number[],
  maxRowBytes: number,
  json: boolean,
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
    const timestamps = new Float64Array(n)
    const keys = new Array<RecordKey>(n)
    const values = new Array<RecordValue>(n)
    let headers: (RecordHeaders | null)[] | null = null
    let maxTimestamp = -Infinity
    let minTimestamp = Infinity
    for (let i = 0; i < n; i++) {
      const r = records[start + i]!
      timestamps[i] = r.timestamp
      if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp
      if (r.timestamp < minTimestamp) minTimestamp = r.timestamp
      keys[i] = r.key
      values[i] = r.value
      if (r.headers) (headers ??= new Array<RecordHeaders | null>(n).fill(null))[i] = r.headers
    }
    // A follower's records keep the leader's offsets, which compaction may have left sparse.
    const first = records[start]!.offset ?? baseOffset + start
    const last = records[end - 1]!.offset ?? first + n - 1
    let deltas: Int32Array | null = null
    if (last - first + 1 !== n) {
      deltas = new Int32Array(n)
      for (let i = 0; i < n; i++) deltas[i] = records[start + i]!.offset! - first
    }
    rows.push({
      topic,
      partition,
      baseOffset: first,
      lastOffset: last,
      minTimestamp,
      maxTimestamp,
      bytes,
      deltas,
      timestamps,
      keys: packKeys(keys),
      values: json ? jsonArray(values) : values,
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

/** JSON texts (or null for tombstones) joined into one JSON array text. */
function jsonArray(values: readonly RecordValue[]): string {
  let text = '['
  for (let i = 0; i < values.length; i++) {
    if (i > 0) text += ','
    const v = values[i]
    text += v === null ? 'null' : (v as string)
  }
  return text + ']'
}

/** String (or null) keys travel as one JSON array text: one string to clone, one parse to read. */
function packKeys(keys: RecordKey[]): RecordKey[] | string {
  for (const k of keys) if (k !== null && typeof k !== 'string') return keys
  return JSON.stringify(keys)
}

/**
 * A row's keys and values, ready to use: `parsed` for a JSON row (already deserialised by one
 * JSON.parse), `raw` otherwise. Build it once per row.
 */
export interface ValueColumn {
  keys: RecordKey[]
  parsed: unknown[] | null
  raw: RecordValue[] | null
}

export function rowKeys(row: BatchRow): RecordKey[] {
  return typeof row.keys === 'string' ? (JSON.parse(row.keys) as RecordKey[]) : row.keys
}

export function valueColumn(row: BatchRow): ValueColumn {
  const keys = rowKeys(row)
  return typeof row.values === 'string'
    ? { keys, parsed: JSON.parse(row.values) as unknown[], raw: null }
    : { keys, parsed: null, raw: row.values }
}

/** The stored form of a value: JSON text for JSON rows (JSON.stringify of JSON.parse is stable). */
export function rawValue(column: ValueColumn, i: number): RecordValue {
  if (column.raw) return column.raw[i]!
  const v = column.parsed![i]
  return v === null ? null : JSON.stringify(v)
}

export function isTombstone(column: ValueColumn, i: number): boolean {
  return (column.raw ?? column.parsed)![i] === null
}

export function batchRecord(row: BatchRow, column: ValueColumn, i: number): LogRecord {
  return {
    offset: recordOffset(row, i),
    timestamp: row.timestamps[i]!,
    key: column.keys[i]!,
    value: rawValue(column, i),
    headers: row.headers?.[i] ?? null,
  }
}

export interface Pick {
  row: BatchRow
  column: ValueColumn
  index: number
}

/**
 * Builds a row from chosen records of existing rows (compaction). Offsets are kept; the row becomes
 * sparse, so it stores each record's delta from its first offset. It stays a JSON row when all its
 * records come from JSON rows.
 */
export function rebuildBatch(
  topic: string,
  partition: number,
  picks: readonly Pick[],
  deleteHorizon: number | undefined,
): BatchRow {
  const first = picks[0]!
  const baseOffset = recordOffset(first.row, first.index)
  const n = picks.length
  const deltas = new Int32Array(n)
  const timestamps = new Float64Array(n)
  const keys = new Array<RecordKey>(n)
  const values = new Array<RecordValue>(n)
  const json = picks.every((p) => p.column.parsed !== null)
  const parsed: unknown[] = json ? new Array<unknown>(n) : []
  let headers: (RecordHeaders | null)[] | null = null
  let maxTimestamp = -Infinity
  let minTimestamp = Infinity
  let bytes = BATCH_OVERHEAD
  let lastOffset = baseOffset
  for (let i = 0; i < n; i++) {
    const { row, column, index } = picks[i]!
    const offset = recordOffset(row, index)
    lastOffset = offset
    deltas[i] = offset - baseOffset
    timestamps[i] = row.timestamps[index]!
    if (timestamps[i]! > maxTimestamp) maxTimestamp = timestamps[i]!
    if (timestamps[i]! < minTimestamp) minTimestamp = timestamps[i]!
    keys[i] = column.keys[index]!
    values[i] = rawValue(column, index)
    if (json) parsed[i] = column.parsed![index]
    const h = row.headers?.[index] ?? null
    if (h) (headers ??= new Array<RecordHeaders | null>(n).fill(null))[i] = h
    bytes += recordSize(keys[i]!, values[i]!, h)
  }
  const batch: BatchRow = {
    topic,
    partition,
    baseOffset,
    lastOffset,
    minTimestamp,
    maxTimestamp,
    bytes,
    deltas,
    timestamps,
    keys: packKeys(keys),
    values: json ? JSON.stringify(parsed) : values,
    headers,
  }
  if (deleteHorizon !== undefined) batch.deleteHorizon = deleteHorizon
  return batch
}
