/**
 * What every engine stores of a stream, whatever the engine: a stream's row, its records and its
 * producers' state. The embedded engine keeps them in a ServerStorage; JetStream in messages and
 * KV entries of the same shape.
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
