import type { StoredRecord } from '../../engine/streamRows.ts'

/**
 * One append's records, packed: their bytes copied into one buffer, the rest in one array per
 * field. Kept as a StoredRecord object and a byte view per record, a stream of 100-event appends
 * held ~200 long-lived heap objects an append, which the garbage collector copied and traced over
 * and over: more CPU than the appends themselves. A chunk is a handful of objects.
 */
interface Chunk {
  /** Ascending. */
  offsets: number[]
  /** Record i's bytes are bytes[ends[i - 1] ?? 0, ends[i]). */
  ends: number[]
  bytes: Uint8Array
  /** One number: every record's (one append's records share their append time). */
  timestamps: number[] | number
  /** null: only the first record starts a batch (one append's records). */
  batchStarts: boolean[] | null
  /** null: every key is null (any plain stream). */
  keys: (string | null)[] | null
}

function pack(records: readonly StoredRecord[]): Chunk {
  const n = records.length
  const first = records[0]!
  let size = 0
  let sameTime = true
  let onlyFirstStarts = true
  let anyKey = false
  for (let i = 0; i < n; i++) {
    const r = records[i]!
    size += r.data.length
    if (r.timestamp !== first.timestamp) sameTime = false
    if (r.batchStart !== (i === 0)) onlyFirstStarts = false
    if (r.key !== null) anyKey = true
  }
  const bytes = new Uint8Array(size)
  const offsets = new Array<number>(n)
  const ends = new Array<number>(n)
  let at = 0
  for (let i = 0; i < n; i++) {
    const r = records[i]!
    bytes.set(r.data, at)
    at += r.data.length
    offsets[i] = r.offset
    ends[i] = at
  }
  return {
    offsets,
    ends,
    bytes,
    timestamps: sameTime ? first.timestamp : records.map((r) => r.timestamp),
    batchStarts: onlyFirstStarts ? null : records.map((r) => r.batchStart),
    keys: anyKey ? records.map((r) => r.key) : null,
  }
}

function unpack(chunk: Chunk, i: number): StoredRecord {
  return {
    offset: chunk.offsets[i]!,
    data: chunk.bytes.subarray(i === 0 ? 0 : chunk.ends[i - 1]!, chunk.ends[i]!),
    batchStart: chunk.batchStarts ? chunk.batchStarts[i]! : i === 0,
    timestamp: typeof chunk.timestamps === 'number' ? chunk.timestamps : chunk.timestamps[i]!,
    key: chunk.keys?.[i] ?? null,
  }
}

/** First index in `xs` (ascending) of a value >= x. */
function lowerBound(xs: ArrayLike<number>, x: number, from = 0): number {
  let lo = from
  let hi = xs.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (xs[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** A stream's records in memory, in offset order, as packed chunks (one per append). */
export class RecordLog {
  private readonly chunks: Chunk[] = []
  /** Each chunk's first offset, for the binary search of a read. */
  private readonly firsts: number[] = []

  /** Appends one append's records (in offset order, after every record already here). */
  append(records: readonly StoredRecord[]): void {
    if (records.length === 0) return
    this.chunks.push(pack(records))
    this.firsts.push(records[0]!.offset)
  }

  /** How many appends it holds: what `truncate` takes to undo the later ones. */
  get mark(): number {
    return this.chunks.length
  }

  truncate(mark: number): void {
    this.chunks.length = mark
    this.firsts.length = mark
  }

  /** Records with from <= offset < to, stopping once their data reaches maxBytes (at least one). */
  read(from: number, to: number, maxBytes: number): StoredRecord[] {
    const out: StoredRecord[] = []
    let bytes = 0
    // The chunk holding `from` is the last whose first offset is <= from.
    let c = Math.max(0, lowerBound(this.firsts, from + 1) - 1)
    for (; c < this.chunks.length && bytes < maxBytes; c++) {
      const chunk = this.chunks[c]!
      for (let i = lowerBound(chunk.offsets, from); i < chunk.offsets.length; i++) {
        if (chunk.offsets[i]! >= to || bytes >= maxBytes) return out
        const record = unpack(chunk, i)
        out.push(record)
        bytes += record.data.length
      }
    }
    return out
  }

  /** The records that pass `keep`, as a new log (retention and compaction: rare, whole-stream). */
  filter(keep: (offset: number) => boolean): RecordLog {
    const next = new RecordLog()
    for (const chunk of this.chunks) {
      const kept: StoredRecord[] = []
      for (let i = 0; i < chunk.offsets.length; i++) {
        if (keep(chunk.offsets[i]!)) kept.push(unpack(chunk, i))
      }
      if (kept.length === chunk.offsets.length) {
        next.chunks.push(chunk)
        next.firsts.push(chunk.offsets[0]!)
      } else next.append(kept)
    }
    return next
  }
}
