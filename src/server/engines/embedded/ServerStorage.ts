/**
 * The seam between the stream engine and a storage backend. Every method is synchronous and runs
 * inside `transaction`, so the engine can read a stream's state, decide, and write records and
 * producer state as one atomic step (the protocol's "validate + append" serialisation, and its
 * advice to commit producer state with the data). Backends: memory and SQLite; all of them pass
 * `test/contract/serverStorageContract.ts`.
 */
import type {
  NewStreamRow,
  ProducerState,
  StoredRecord,
  StreamRow,
} from '../../engine/streamRows.ts'

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
