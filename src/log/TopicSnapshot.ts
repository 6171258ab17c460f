import { InvalidArgumentError, UnknownTopicError } from './errors.ts'
import type { Log } from './Log.ts'
import { topicRange, type SnapshotRow } from './LogStorage.ts'

/** One entry of an image: a key's text, its latest value and that value's timestamp. */
export type SnapshotEntry = [key: string, value: unknown, timestamp: number]

/**
 * An image of a compacted topic: each key's latest value up to `offsets` (the next offset per
 * partition it reflects), so a reader loads it and folds only the records from there on instead
 * of the topic's whole history. It is Kafka Streams' state directory with its checkpoint file,
 * kept where a browser keeps everything: beside the log, in the same storage.
 */
export interface TopicSnapshot {
  topic: string
  /** The topic's id when the image was taken: a topic deleted and created again is another. */
  topicId: string
  offsets: number[]
  /** The writer's own label (format, topology): a reader discards a label it does not expect. */
  label: string
  /** When it was written, by the log's clock. */
  writtenAt: number
  entries: SnapshotEntry[]
}

/** Why a stored snapshot was not used (the reader rebuilds from the topic, and may say so). */
export type SnapshotRejection =
  /** Its bytes do not add up: a part is missing, or its checksum differs. */
  | 'damaged'
  /** Written by another writer or format (`label`). */
  | 'foreign'
  /** Of a topic of the same name that was deleted since. */
  | 'stale'
  /** Records above its offsets are gone (retention, or tombstones the cleaner removed). */
  | 'behind'
  /** Its offsets are beyond the topic's end: the storage went back in time. */
  | 'ahead'

export type SnapshotLoad =
  | { snapshot: TopicSnapshot; rejected: null }
  | { snapshot: null; rejected: SnapshotRejection | null }

/** Entries per stored chunk: a few rows for any view, each small enough to clone in one go. */
const CHUNK = 10_000

/**
 * Replaces the topic's snapshot, in one transaction: a reader sees the old one or the new one,
 * never part of either. The entries are packed into a few rows of JSON texts (one parse per row,
 * as record batches are) with a checksum over them.
 */
export async function saveSnapshot(
  log: Log,
  snapshot: Omit<TopicSnapshot, 'writtenAt' | 'topicId'>,
): Promise<void> {
  const { topic, offsets, label, entries } = snapshot
  // Packed before anything is awaited: the caller's state may move on once this returns a promise.
  const chunks = packChunks(entries)
  if (!offsets.every((o) => Number.isSafeInteger(o) && o >= 0))
    throw new InvalidArgumentError(`A snapshot's offsets must be integers >= 0, got ${offsets}`)
  if (typeof label !== 'string') throw new InvalidArgumentError('A snapshot needs a string label')
  const { id: topicId, numPartitions } = await log.topic(topic)
  if (offsets.length !== numPartitions)
    throw new InvalidArgumentError(
      `A snapshot of "${topic}" needs one offset per partition (${numPartitions}), got ${offsets.length}`,
    )
  const header: NonNullable<SnapshotRow['header']> = {
    topicId,
    offsets: [...offsets],
    label,
    writtenAt: log.clock(),
    parts: chunks.length,
    entries: entries.length,
    checksum: checksum(chunks),
  }
  await log.storage.write(['topics', 'partitions', 'snapshots'], async (tx) => {
    // Checked in the transaction that writes it: an image must not outlive the records it reflects.
    const [row, partitions] = await Promise.all([
      tx.get('topics', topic),
      tx.getAll('partitions', topicRange(topic)),
    ])
    if (!row || row.id !== topicId)
      throw new UnknownTopicError(`Topic "${topic}" was deleted; its snapshot is not written`)
    for (const p of partitions) {
      if (offsets[p.partition]! > p.nextOffset)
        throw new InvalidArgumentError(
          `A snapshot of "${topic}" at offset ${offsets[p.partition]} is beyond partition ${p.partition}'s end (${p.nextOffset})`,
        )
    }
    forget(log, topic)
    tx.deleteRange('snapshots', topicRange(topic))
    tx.put('snapshots', { topic, part: 0, header })
    chunks.forEach((chunk, i) => tx.put('snapshots', { topic, part: i + 1, ...chunk }))
  })
}

/**
 * An image as stored, checked but not decoded: its entries as packed chunks (a JSON array of key
 * texts, a JSON array of values, their timestamps). A view can hand these to a page as they are
 * (the page parses them once) and decode them itself afterwards, off the boot's path.
 */
export interface SnapshotImage {
  topic: string
  header: Header
  chunks: readonly SnapshotChunk[]
}

/** One stored chunk of an image (at most 10,000 entries). */
export interface SnapshotChunk {
  /** JSON array of the entries' key texts. */
  keys: string
  /** JSON array of their values. */
  values: string
  timestamps: Float64Array
}

export type SnapshotImageLoad =
  { image: SnapshotImage; rejected: null } | { image: null; rejected: SnapshotRejection | null }

/**
 * The topic's snapshot if one is stored and still true of the topic: written under `label`, of
 * this topic (not an earlier one of the same name), intact, with its offsets inside each
 * partition's range and no record it would need removed. Otherwise null and why.
 */
export async function loadSnapshot(log: Log, topic: string, label: string): Promise<SnapshotLoad> {
  const { image, rejected } = await loadSnapshotImage(log, topic, label)
  if (!image) return { snapshot: null, rejected }
  const snapshot = decodeSnapshotImage(log, image)
  return snapshot ? { snapshot, rejected: null } : { snapshot: null, rejected: 'damaged' }
}

/** loadSnapshot's checks, without the decode: the image's chunks as stored. */
export async function loadSnapshotImage(
  log: Log,
  topic: string,
  label: string,
): Promise<SnapshotImageLoad> {
  const { rows, topicRow, partitions } = await log.storage.read(
    ['topics', 'partitions', 'snapshots'],
    async (tx) => {
      const [rows, topicRow, partitions] = await Promise.all([
        tx.getAll('snapshots', topicRange(topic)),
        tx.get('topics', topic),
        tx.getAll('partitions', topicRange(topic)),
      ])
      return { rows, topicRow, partitions }
    },
  )
  const none = (rejected: SnapshotRejection | null): SnapshotImageLoad => ({
    image: null,
    rejected,
  })
  if (rows.length === 0 || !topicRow) return none(null)
  const header = rows[0]!.header
  if (!header || rows[0]!.part !== 0) return none('damaged')
  if (header.label !== label) return none('foreign')
  if (header.topicId !== topicRow.id) return none('stale')
  if (header.offsets.length !== partitions.length) return none('stale')
  for (const p of partitions) {
    const at = header.offsets[p.partition]!
    if (at > p.nextOffset) return none('ahead')
    if (at < p.logStartOffset || at < (p.tombstonesRemovedTo ?? 0)) return none('behind')
  }
  const chunks = rows.slice(1)
  const intact =
    chunks.length === header.parts &&
    chunks.every(
      (c, i) =>
        c.part === i + 1 &&
        typeof c.keys === 'string' &&
        typeof c.values === 'string' &&
        c.timestamps instanceof Float64Array,
    ) &&
    checksum(chunks as SnapshotChunk[]) === header.checksum
  if (!intact) return none('damaged')
  const packed = (chunks as SnapshotChunk[]).map(({ keys, values, timestamps }) => ({
    keys,
    values,
    timestamps,
  }))
  return { image: { topic, header, chunks: packed }, rejected: null }
}

/**
 * The entries of a checked image, or null if they do not parse as an image's (written wrong).
 * The second decode of the same image within moments (a view's mirror, then the topology's
 * restore, or the other way round) reuses the first.
 */
export function decodeSnapshotImage(log: Log, image: SnapshotImage): TopicSnapshot | null {
  const { topic, header, chunks } = image
  const cached = decoded.get(log)?.get(topic)
  if (cached && sameHeader(header, cached.header)) {
    forget(log, topic)
    return { ...cached.snapshot, offsets: [...header.offsets] }
  }
  const entries: SnapshotEntry[] = []
  try {
    for (const c of chunks) {
      const keys = JSON.parse(c.keys) as unknown
      const values = JSON.parse(c.values) as unknown
      if (
        !Array.isArray(keys) ||
        !Array.isArray(values) ||
        keys.length !== values.length ||
        keys.length !== c.timestamps.length
      )
        return null
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as unknown
        if (typeof key !== 'string') return null
        entries.push([key, values[i], c.timestamps[i]!])
      }
    }
  } catch {
    return null
  }
  if (entries.length !== header.entries) return null
  const snapshot: TopicSnapshot = {
    topic,
    topicId: header.topicId,
    offsets: [...header.offsets],
    label: header.label,
    writtenAt: header.writtenAt,
    entries,
  }
  remember(log, topic, header, snapshot)
  return snapshot
}

type Header = NonNullable<SnapshotRow['header']>

/**
 * Images decoded in the last moments, by log and topic, for a second reader of the same image:
 * at boot a view's mirror and the topology's restore each load their store's snapshot, and the
 * decode (a JSON.parse of every chunk) was the largest part of a 100,000-key boot, done twice
 * on one thread. Held until that second read, or a few seconds: an image is state-sized.
 * The entries are shared, so readers must not change them (neither the mirror nor the restore
 * does: both copy what they keep).
 */
const decoded = new WeakMap<Log, Map<string, { header: Header; snapshot: TopicSnapshot }>>()
const REMEMBER_MS = 5_000

function remember(log: Log, topic: string, header: Header, snapshot: TopicSnapshot): void {
  let byTopic = decoded.get(log)
  if (!byTopic) decoded.set(log, (byTopic = new Map()))
  const entry = { header, snapshot }
  byTopic.set(topic, entry)
  setTimeout(() => {
    if (byTopic.get(topic) === entry) byTopic.delete(topic)
  }, REMEMBER_MS)
}

function forget(log: Log, topic: string): void {
  decoded.get(log)?.delete(topic)
}

/** Two headers of the same write: the same topic life, offsets, label, time and checksum. */
const sameHeader = (a: Header, b: Header): boolean =>
  a.topicId === b.topicId &&
  a.label === b.label &&
  a.writtenAt === b.writtenAt &&
  a.checksum === b.checksum &&
  a.parts === b.parts &&
  a.entries === b.entries &&
  a.offsets.length === b.offsets.length &&
  a.offsets.every((o, i) => o === b.offsets[i])

function packChunks(entries: readonly SnapshotEntry[]): SnapshotChunk[] {
  const chunks: SnapshotChunk[] = []
  for (let start = 0; start < entries.length; start += CHUNK) {
    const slice = entries.slice(start, start + CHUNK)
    const timestamps = new Float64Array(slice.length)
    const keys: string[] = []
    const values: unknown[] = []
    slice.forEach(([key, value, timestamp], i) => {
      if (typeof key !== 'string')
        throw new InvalidArgumentError(`A snapshot entry's key must be its text, got ${typeof key}`)
      keys.push(key)
      values.push(value)
      timestamps[i] = timestamp
    })
    chunks.push({ keys: JSON.stringify(keys), values: JSON.stringify(values), timestamps })
  }
  return chunks
}

/**
 * FNV-1a over the chunks' texts and timestamps' bytes: not a defence against an attacker (who can
 * write the storage anyway), but any damaged byte changes it, and it costs ~1 ms per MB.
 */
function checksum(chunks: readonly SnapshotChunk[]): number {
  let h = 0x811c9dc5
  const mix = (n: number) => {
    h ^= n
    h = Math.imul(h, 0x01000193)
  }
  for (const c of chunks) {
    for (const text of [c.keys, c.values]) {
      for (let i = 0; i < text.length; i++) mix(text.charCodeAt(i))
      mix(0)
    }
    const words = new Uint32Array(
      c.timestamps.buffer,
      c.timestamps.byteOffset,
      c.timestamps.length * 2,
    )
    for (let i = 0; i < words.length; i++) mix(words[i]!)
  }
  return h >>> 0
}
