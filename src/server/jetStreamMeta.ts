import { isJsonType } from './contentType.ts'
import { parseJsonMessages } from './jsonMessages.ts'
import type { ProducerState, StoredRecord, StreamRow } from './ServerStorage.ts'

/**
 * A stream's metadata as kept in the JetStream backend's KV bucket: the row the handlers see, plus
 * the stream's producers, so that producer state changes in the same revision-checked update as
 * the tail it vouches for (the KV entry outlives Nats-Msg-Id's 2-minute dedupe window).
 */
export interface StreamMeta extends StreamRow {
  producers: Record<string, ProducerState>
  /** The path of the stream this one was forked from (StreamRow keeps only its id). */
  sourcePath: string | null
}

/** KV keys allow [-/_=.a-zA-Z0-9]: a stream path is any string, so key it by base64url. */
export const metaKey = (path: string): string => `s.${Buffer.from(path).toString('base64url')}`

export const jsStreamName = (id: number): string => `DS_${id}`
export const recordSubject = (id: number): string => `duality.r.${id}`
/** Core NATS (not persisted): tells every server's live readers that a stream changed. */
export const noticeSubject = (id: number): string => `duality.n.${id}`

/** A fresh stream id: random, so servers need no coordination to pick one (2^-48 odds of a clash). */
export const newStreamId = (): number => Math.floor(Math.random() * 2 ** 48) + 1

export function rowOf(meta: StreamMeta): StreamRow {
  const { producers: _producers, sourcePath: _sourcePath, ...row } = meta
  return row
}

/** A stream's metadata with the KV revision it was read at, for a revision-checked update. */
export interface Loaded {
  meta: StreamMeta
  rev: number
}

/** Records for an append body: one per JSON message in JSON mode, else the body as one record. */
export function recordsOf(
  meta: StreamMeta,
  body: Uint8Array,
  initial: boolean,
  timestamp: number,
): { ok: true; records: StoredRecord[] } | { ok: false; message: string } {
  const messages = isJsonType(meta.contentType)
    ? parseJsonMessages(body, initial)
    : { ok: true as const, messages: [body] }
  if (!messages.ok) return messages
  const records = messages.messages.map((data, i) => ({
    offset: meta.nextOffset + i,
    data,
    batchStart: i === 0,
    timestamp,
    key: null,
  }))
  return { ok: true, records }
}
