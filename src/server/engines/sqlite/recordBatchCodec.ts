import type { StoredRecord } from '../../engine/streamRows.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * The SQLite backend stores an append's records as one row (per-row cost dominates,
 * so store batches). Layout per record: offset f64, timestamp f64, flags u8 (1 = batch start,
 * 2 = has key), key length u32 + UTF-8 key when present, data length u32 + data.
 */
export function encodeBatch(records: readonly StoredRecord[]): Uint8Array {
  const keys = records.map((r) => (r.key === null ? null : encoder.encode(r.key)))
  let size = 0
  for (const [i, r] of records.entries())
    size += 21 + (keys[i] ? 4 + keys[i].length : 0) + r.data.length
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let at = 0
  for (const [i, r] of records.entries()) {
    const key = keys[i]
    view.setFloat64(at, r.offset)
    view.setFloat64(at + 8, r.timestamp)
    view.setUint8(at + 16, (r.batchStart ? 1 : 0) | (key ? 2 : 0))
    at += 17
    if (key) {
      view.setUint32(at, key.length)
      out.set(key, at + 4)
      at += 4 + key.length
    }
    view.setUint32(at, r.data.length)
    out.set(r.data, at + 4)
    at += 4 + r.data.length
  }
  return out
}

export function decodeBatch(bytes: Uint8Array): StoredRecord[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const records: StoredRecord[] = []
  let at = 0
  while (at < bytes.length) {
    const offset = view.getFloat64(at)
    const timestamp = view.getFloat64(at + 8)
    const flags = view.getUint8(at + 16)
    at += 17
    let key: string | null = null
    if (flags & 2) {
      const length = view.getUint32(at)
      key = decoder.decode(bytes.subarray(at + 4, at + 4 + length))
      at += 4 + length
    }
    const length = view.getUint32(at)
    const data = bytes.subarray(at + 4, at + 4 + length)
    at += 4 + length
    records.push({ offset, data, batchStart: (flags & 1) === 1, timestamp, key })
  }
  return records
}
