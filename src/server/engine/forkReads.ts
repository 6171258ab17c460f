import { isJsonType } from '../../protocol/index.ts'
import type { StoredRecord, StreamRow } from './streamRows.ts'
import type { ServerStorage } from '../engines/embedded/ServerStorage.ts'

/**
 * The records a stream shows in [from, to): a fork shows its source's records below its fork
 * offset (recursively) and its own above. Stops once `maxBytes` of data are collected.
 */
export function readVisible(
  storage: ServerStorage,
  row: StreamRow,
  from: number,
  to: number,
  maxBytes: number,
): { records: StoredRecord[]; truncated: boolean } {
  const records: StoredRecord[] = []
  let bytes = 0
  const collect = (r: StreamRow, lo: number, hi: number): boolean => {
    if (r.forkedFrom !== null && r.forkOffset !== null && lo < r.forkOffset) {
      const source = storage.getStreamById(r.forkedFrom)
      if (source && !collect(source, lo, Math.min(hi, r.forkOffset))) return false
    }
    const own = Math.max(lo, r.forkOffset ?? 0)
    if (own >= hi) return true
    if (bytes >= maxBytes) return false
    for (const record of storage.readRecords(r.id, own, hi, maxBytes - bytes)) {
      records.push(record)
      bytes += record.data.length
    }
    return bytes < maxBytes
  }
  const complete = collect(row, from, to)
  return { records, truncated: !complete }
}

/** More than any request body the server takes (8 MiB by default). */
export const maxForkCutBytes = 64 * 1024 * 1024

export type ForkCut =
  | { ok: true; forkOffset: number; prefix: StoredRecord | undefined }
  | { ok: false; message: string }

/**
 * A fork point inside an append (`Stream-Fork-Sub-Offset`): in JSON mode, the first `sub` messages
 * of the append at `offset` (they are records of their own, so the fork simply inherits `sub` more);
 * otherwise the first `sub` bytes of the record at `offset`, copied into the fork as its first record.
 */
export function forkPrefix(
  storage: ServerStorage,
  source: StreamRow,
  offset: number,
  sub: number,
  now: number,
): ForkCut {
  // One append at most is needed, and one append is at most a request body: a byte bound keeps
  // a huge sub-offset from reading the whole source into memory.
  const { records } = readVisible(
    storage,
    source,
    offset,
    Math.min(source.nextOffset, offset + sub + 1),
    maxForkCutBytes,
  )
  const first = records[0]
  if (!first) return { ok: false, message: 'Stream-Fork-Sub-Offset: no data after the fork offset' }
  if (isJsonType(source.contentType)) {
    let count = 1
    while (count < records.length && !records[count]!.batchStart) count++
    if (sub > count) {
      return {
        ok: false,
        message: `Stream-Fork-Sub-Offset ${sub} exceeds the append's ${count} messages`,
      }
    }
    return { ok: true, forkOffset: first.offset + sub, prefix: undefined }
  }
  if (sub > first.data.length) {
    return {
      ok: false,
      message: `Stream-Fork-Sub-Offset ${sub} exceeds the append's ${first.data.length} bytes`,
    }
  }
  return {
    ok: true,
    forkOffset: first.offset,
    prefix: {
      offset: first.offset,
      data: first.data.slice(0, sub),
      batchStart: true,
      timestamp: now,
      key: null,
    },
  }
}
