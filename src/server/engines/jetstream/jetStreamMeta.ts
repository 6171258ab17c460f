import type { ProducerState, StreamRow } from '../../engine/streamRows.ts'

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

/** A topic's entry: it claims the topic name for one incarnation (id) of the topic. */
export interface TopicEntry {
  topic: string
  id: string
  numPartitions: number
  /** False while its partitions are being created; such a topic is not described or listed. */
  ready: boolean
  /** Wall clock of the claim: a claim never made ready (its server died) goes stale. */
  claimedAt: number
}

export interface LoadedTopic {
  entry: TopicEntry
  rev: number
}

/** The background cleaner's lease: which server cleans, until when (its clock). */
export interface CleanerLease {
  owner: string
  until: number
}
export const cleanerKey = 'cleaner'

export const topicKeyPrefix = 't.'
/** Topic names may start or end with '.', which KV keys may not: base64url them too. */
export const topicKey = (topic: string): string =>
  `${topicKeyPrefix}${Buffer.from(topic).toString('base64url')}`

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
