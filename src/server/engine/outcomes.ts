import type { ClosedBy, StoredRecord, StreamRow } from './streamRows.ts'

/**
 * What the engine decided for each operation, as tagged unions: the HTTP layer maps each kind to a
 * status and headers in one place (createApp.ts), and tests can match on them directly.
 */

export interface ProducerHeaders {
  id: string
  epoch: number
  seq: number
}

export interface CreateRequest {
  path: string
  /** Undefined when the client sent none (or an unusable one): octet-stream, or a fork's source type. */
  contentType: string | undefined
  ttlSeconds: number | undefined
  expiresAt: string | undefined
  closed: boolean
  body: Uint8Array
  fork: { from: string; offset: string | undefined; subOffset: number } | undefined
  /** Topic-partition settings, set by the topic admin only. */
  topic?: string
}

export type CreateOutcome =
  | { kind: 'created'; stream: StreamRow }
  | { kind: 'exists'; stream: StreamRow }
  | { kind: 'conflict'; message: string }
  | { kind: 'sourceNotFound' }
  | { kind: 'badRequest'; message: string; tooLarge?: boolean }

export interface AppendRequest {
  path: string
  contentType: string | undefined
  body: Uint8Array
  streamSeq: string | undefined
  producer: ProducerHeaders | undefined
  close: boolean
}

export type AppendOutcome =
  | { kind: 'appended'; stream: StreamRow; producer: ProducerHeaders | undefined }
  /** A close without data (or a repeated close): 204 even for an idempotent producer. */
  | { kind: 'closed'; stream: StreamRow; producer: ProducerHeaders | undefined }
  | { kind: 'duplicate'; stream: StreamRow; epoch: number; lastSeq: number }
  | { kind: 'notFound' }
  | { kind: 'gone' }
  | { kind: 'streamClosed'; stream: StreamRow }
  | { kind: 'contentTypeMismatch'; expected: string }
  | { kind: 'staleEpoch'; currentEpoch: number }
  | { kind: 'invalidEpochSeq' }
  | { kind: 'sequenceGap'; expected: number; received: number }
  | { kind: 'streamSeqConflict'; last: string }
  /** A refused body; `tooLarge` when a record is over its topic's max.message.bytes (413). */
  | { kind: 'badRequest'; message: string; tooLarge?: boolean }

export type ReadOutcome =
  | { kind: 'notFound' }
  | { kind: 'gone' }
  | { kind: 'belowStart'; startOffset: number }
  | {
      kind: 'ok'
      stream: StreamRow
      records: StoredRecord[]
      /** Where the next read starts. */
      nextOffset: number
      /** True when the records reach the tail. */
      upToDate: boolean
    }

export type StreamLookup =
  { kind: 'notFound' } | { kind: 'gone' } | { kind: 'ok'; stream: StreamRow }

export type DeleteOutcome = { kind: 'notFound' } | { kind: 'gone' } | { kind: 'deleted' }

export type { ClosedBy }
