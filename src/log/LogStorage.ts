import type { TopicConfig } from './TopicConfig.ts'
import type { RecordHeaders, RecordKey, RecordValue } from './record.ts'

/**
 * The seam between the log engine and a storage backend (memory, IndexedDB, SQLite). It is shaped
 * after IndexedDB because IndexedDB is the most constrained backend: a transaction commits by itself
 * once no request is pending, so a transaction body may await only the transaction's own requests.
 * The engine therefore reads what a step needs, computes synchronously, then writes everything.
 * Adapters must make each `write` all-or-nothing and serialise writes that touch the same stores.
 */
export interface LogStorage {
  /** A short name for messages and benchmarks, e.g. 'memory' or 'indexeddb'. */
  readonly kind: string
  read<T>(stores: readonly StoreName[], body: (tx: ReadTx) => Promise<T>): Promise<T>
  write<T>(
    stores: readonly StoreName[],
    body: (tx: WriteTx) => Promise<T> | T,
    options?: WriteOptions,
  ): Promise<T>
  close(): Promise<void>
}

export interface WriteOptions {
  /** 'relaxed' acknowledges once the OS has the data; 'strict' waits for it to reach the disk. */
  durability?: 'relaxed' | 'strict'
}

/** Keys follow IndexedDB's order: numbers < strings < arrays, arrays element by element. */
export type Key = number | string | Key[]

export interface KeyRange {
  lower?: Key
  upper?: Key
  lowerOpen?: boolean
  upperOpen?: boolean
}

export interface ReadTx {
  get<S extends StoreName>(store: S, key: Key): Promise<Rows[S] | undefined>
  /** Rows in key order, at most `count` of them. */
  getAll<S extends StoreName>(store: S, range?: KeyRange, count?: number): Promise<Rows[S][]>
  /** The row with the highest key in the range. */
  getLast<S extends StoreName>(store: S, range?: KeyRange): Promise<Rows[S] | undefined>
}

/**
 * Writes are requests fired without awaiting. Reads after the first write in one transaction are not
 * allowed (the memory adapter throws): it keeps every backend honest about the read-then-write shape.
 */
export interface WriteTx extends ReadTx {
  put<S extends StoreName>(store: S, row: Rows[S]): void
  delete(store: StoreName, key: Key): void
  deleteRange(store: StoreName, range: KeyRange): void
}

export interface TopicRow {
  name: string
  /** Changes when a topic is deleted and created again, so stale caches can tell. */
  id: string
  numPartitions: number
  config: TopicConfig
  createdAt: number
}

/** The summary of one segment: a run of batches that retention deletes as a whole. */
export interface SegmentRow {
  topic: string
  partition: number
  baseOffset: number
  /** Offset of the last record ever appended to this segment (compaction may have removed it). */
  lastOffset: number
  bytes: number
  records: number
  maxTimestamp: number
  createdAt: number
  /** The earliest tombstone horizon of its batches (see BatchRow.deleteHorizon). */
  deleteHorizon?: number
}

/** Per-partition head, re-read inside every append transaction: it is the only source of order. */
export interface PartitionRow {
  topic: string
  partition: number
  topicId: string
  logStartOffset: number
  /** The log end offset: the offset the next record gets. */
  nextOffset: number
  /** Bytes of all segments, the active one included. */
  bytes: number
  /** The segment being appended to; closed segments live in the `segments` store. */
  active: SegmentRow
  /** Everything below this offset has been compacted (Kafka's cleaner checkpoint). */
  cleanedOffset: number
  /**
   * One past the highest offset of a tombstone the cleaner removed: an image of the partition
   * taken below it may hold a key whose deletion can no longer be read (TopicSnapshot).
   */
  tombstonesRemovedTo?: number
}

/**
 * One stored row holds a batch of records in columns (Kafka's RecordBatch): IndexedDB's cost is per
 * request, not per byte, and structured-cloning a few arrays is far cheaper than many small objects.
 */
export interface BatchRow {
  topic: string
  partition: number
  baseOffset: number
  lastOffset: number
  /** Smallest and largest record timestamp (CreateTime): timestamp lookups skip by them. */
  minTimestamp: number
  maxTimestamp: number
  bytes: number
  /** Offset of each record minus baseOffset; null while the batch is dense (never compacted). */
  deltas: Int32Array | null
  /** A typed array: structured clone copies it in one go instead of element by element. */
  timestamps: Float64Array
  /** One key per record or, when all are strings or null, one JSON array text of them. */
  keys: RecordKey[] | string
  /**
   * One value per record or, when every value is JSON text (the JSON serde), one JSON array text
   * of them all with tombstones as `null`: one parse per row instead of one per record made full
   * scans ~1.7x faster in Chromium (docs/benchmarks.md).
   */
  values: RecordValue[] | string
  /** Null when no record of the batch has headers. */
  headers: (RecordHeaders | null)[] | null
  /** Set by the first cleaning that kept a tombstone of this batch: when tombstones may go. */
  deleteHorizon?: number
}

export interface GroupOffsetRow {
  groupId: string
  topic: string
  partition: number
  offset: number
  metadata: string | null
  committedAt: number
}

/**
 * One row of a topic snapshot (see TopicSnapshot.ts): part 0 is the header, parts 1.. the image in
 * packed chunks. A snapshot is replaced whole, in one transaction.
 */
export interface SnapshotRow {
  topic: string
  part: number
  /** Header only: the topic's id, the offsets the image reflects, and what the writer put. */
  header?: {
    topicId: string
    offsets: number[]
    label: string
    writtenAt: number
    parts: number
    entries: number
    checksum: number
  }
  /** Chunks only: JSON array texts of the keys and of the values, and the timestamps. */
  keys?: string
  values?: string
  timestamps?: Float64Array
}

export interface Rows {
  topics: TopicRow
  partitions: PartitionRow
  segments: SegmentRow
  batches: BatchRow
  offsets: GroupOffsetRow
  snapshots: SnapshotRow
}

export type StoreName = keyof Rows

/** Where each store's key lives in its rows; both adapters build their stores from this. */
export const keyPaths: { [S in StoreName]: string | string[] } = {
  topics: 'name',
  partitions: ['topic', 'partition'],
  segments: ['topic', 'partition', 'baseOffset'],
  batches: ['topic', 'partition', 'lastOffset'],
  offsets: ['groupId', 'topic', 'partition'],
  snapshots: ['topic', 'part'],
}

export const storeNames = Object.keys(keyPaths) as StoreName[]

/** The range holding every row of a topic (or of one partition) in the stores keyed by topic. */
export function topicRange(topic: string, partition?: number): KeyRange {
  return partition === undefined
    ? { lower: [topic], upper: [topic, []] }
    : { lower: [topic, partition], upper: [topic, partition, []] }
}
