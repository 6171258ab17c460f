/**
 * The seam between the stream engine and a storage backend. Every method is synchronous and runs
 * inside `transaction`, so the engine can read a stream's state, decide, and write records and
 * producer state as one atomic step (the protocol's "validate + append" serialisation, and its
 * advice to commit producer state with the data). Backends: memory and SQLite; all of them pass
 * `test/contract/serverStorageContract.ts`.
 */

/** The producer that closed a stream, so that its retry of the close is a duplicate, not a 409. */
export interface ClosedBy {
  producerId: string
  epoch: number
  seq: number
}

/** One stream (a topic-partition, or any Durable Streams stream) as stored. */
export interface StreamRow {
  /** Assigned by the backend; never reused, so a stream recreated at a path is a new stream. */
  id: number
  path: string
  contentType: string
  ttlSeconds: number | null
  /** RFC 3339, as the client sent it. */
  expiresAt: string | null
  createdAt: number
  lastAccessedAt: number
  closed: boolean
  closedBy: ClosedBy | null
  /** The offset the next record gets (the tail). */
  nextOffset: number
  /** The first offset still stored; retention moves it forward, compaction does not. */
  startOffset: number
  /** The last `Stream-Seq` accepted, compared byte-wise. */
  lastStreamSeq: string | null
  /** The stream this one was forked from (its id), and the offset below which it reads the source. */
  forkedFrom: number | null
  forkOffset: number | null
  /** The fork point as the client asked for it, to compare an idempotent re-create. */
  forkRequest: string | null
  /** Forks that read from this stream; a deleted stream with forks stays (soft-deleted) until they go. */
  refCount: number
  softDeleted: boolean
  /** Topic-partition settings (JSON of the topic's config), null for plain streams. */
  topic: string | null
}

export type NewStreamRow = Omit<StreamRow, 'id'>

export interface StoredRecord {
  offset: number
  /** The message bytes; in JSON mode one JSON value's text. */
  data: Uint8Array
  /** True for the first record of an append, so a fork can cut inside one append (sub-offsets). */
  batchStart: boolean
  timestamp: number
  /** The compaction key of a topic record, null otherwise. */
  key: string | null
}

export interface ProducerState {
  epoch: number
  lastSeq: number
  updatedAt: number
}

/**
 * A nested transaction failed in a way that also ended the one around it (SQLite may roll back a
 * whole transaction on SQLITE_FULL or an I/O error): nothing of the outer one stands, and the
 * caller must not go on writing as if it did. `cause` is the original error.
 */
export class TransactionAborted extends Error {
  constructor(cause: unknown) {
    super('The storage rolled back the whole transaction', { cause })
  }
}

export interface ServerStorage {
  /**
   * Runs `fn` atomically: all of its writes commit before this returns, or none do. Nested, it
   * is a savepoint: a throw undoes only its own writes, unless the storage threw
   * TransactionAborted.
   */
  transaction<T>(fn: () => T): T
  /**
   * Resolves once every commit made before the call is durable. A storage whose commits are
   * durable when `transaction` returns (or never durable: memory) has none. The engine
   * acknowledges and shows a write only after this (Durability.ts).
   */
  flush?: () => Promise<void>
  getStream(path: string): StreamRow | undefined
  getStreamById(id: number): StreamRow | undefined
  /** Paths of every stored stream, soft-deleted ones included, in path order. */
  listStreams(prefix?: string): StreamRow[]
  insertStream(row: NewStreamRow): StreamRow
  updateStream(row: StreamRow): void
  /** Removes the stream, its records and its producers' state. */
  deleteStream(id: number): void
  appendRecords(streamId: number, records: readonly StoredRecord[]): void
  /**
   * Records with `from <= offset < to` in offset order, stopping once their data reaches `maxBytes`
   * (at least one record is returned when any is in range).
   */
  readRecords(streamId: number, from: number, to: number, maxBytes: number): StoredRecord[]
  /** Deletes records with offset < `below` (retention). */
  deleteRecordsBelow(streamId: number, below: number): void
  /** Deletes the records at these offsets (compaction). */
  deleteRecords(streamId: number, offsets: readonly number[]): void
  getProducer(streamId: number, producerId: string): ProducerState | undefined
  putProducer(streamId: number, producerId: string, state: ProducerState): void
  close(): void
}
