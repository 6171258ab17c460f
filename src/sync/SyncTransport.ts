import type { FollowerRecord } from '../log/followerRequest.ts'
import type { ConfigEntry } from '../log/TopicConfig.ts'
import type { RecordHeaders } from '../log/record.ts'

/** A topic as the server describes it. `id` changes when the topic is deleted and re-created. */
export interface RemoteTopic {
  name: string
  id: string
  numPartitions: number
  configEntries: ConfigEntry[]
}

/** What a read returns: records with the server's offsets, and where the next read starts. */
export interface RemoteChunk {
  records: FollowerRecord[]
  /** The offset after this chunk (past any gap compaction left at its end). */
  nextOffset: number
  /** True when the chunk reached the end of the partition as the server saw it. */
  upToDate: boolean
}

/** A record on its way to the server: value as JSON text (null: tombstone). */
export interface OutboundRecord {
  key: string | null
  value: string | null
  headers: RecordHeaders | null
  timestamp: number
}

/** An idempotent producer's coordinates for one partition (Durable Streams' Producer-* headers). */
export interface ProducerCoordinates {
  id: string
  epoch: number
  seq: number
}

/**
 * The seam between sync and a server. Implementations: `httpTransport` (the Durable Streams
 * protocol, duality's server or any conformant one with duality's topic layer) and
 * `memoryTransport` (an in-process server for tests). Both pass `test/contract/transportContract.ts`.
 *
 * Failures are typed: UnknownTopicError (404), OffsetOutOfRangeError (410: below the server's
 * retention, or the partition was re-created), UnauthorizedError (401), ForbiddenError (403),
 * RateLimitedError (429), ProducerFencedError (stale epoch), OutOfOrderSequenceError (a sequence
 * gap), InvalidRecordError / RecordTooLargeError / ConcurrencyError (the server refuses the
 * batch for one of its records), NetworkError.
 */
export interface SyncTransport {
  describeTopic(topic: string, signal?: AbortSignal): Promise<RemoteTopic>
  /**
   * Records of a partition from `offset` on ('start': from the server's log start, wherever
   * retention moved it), in one bounded chunk. With `live`, a read at the end waits (long-poll)
   * until records arrive or the server's poll timeout passes.
   */
  read(
    topic: string,
    partition: number,
    offset: number | 'start',
    options: { live: boolean; signal?: AbortSignal },
  ): Promise<RemoteChunk>
  /**
   * Appends a batch, all or nothing, as one idempotent request: a retry with the same coordinates
   * is a duplicate (`duplicate: true`) and writes nothing.
   */
  append(
    topic: string,
    partition: number,
    records: OutboundRecord[],
    producer: ProducerCoordinates,
    signal?: AbortSignal,
  ): Promise<{ duplicate: boolean }>
}
