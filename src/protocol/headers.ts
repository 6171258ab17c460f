/** Durable Streams header names (PROTOCOL.md §5, §11.2), lower-case as Node and fetch deliver them. */
export const H = {
  nextOffset: 'stream-next-offset',
  upToDate: 'stream-up-to-date',
  cursor: 'stream-cursor',
  closed: 'stream-closed',
  ttl: 'stream-ttl',
  expiresAt: 'stream-expires-at',
  seq: 'stream-seq',
  producerId: 'producer-id',
  producerEpoch: 'producer-epoch',
  producerSeq: 'producer-seq',
  producerExpectedSeq: 'producer-expected-seq',
  producerReceivedSeq: 'producer-received-seq',
  forkedFrom: 'stream-forked-from',
  forkOffset: 'stream-fork-offset',
  forkSubOffset: 'stream-fork-sub-offset',
  sseDataEncoding: 'stream-sse-data-encoding',
} as const

/** Headers a browser may send cross-origin (CORS preflight). */
export const allowedRequestHeaders = [
  'content-type',
  'authorization',
  'if-none-match',
  H.seq,
  H.ttl,
  H.expiresAt,
  H.closed,
  H.producerId,
  H.producerEpoch,
  H.producerSeq,
  H.forkedFrom,
  H.forkOffset,
  H.forkSubOffset,
].join(', ')

/** Response headers a browser's script may read. */
export const exposedResponseHeaders = [
  H.nextOffset,
  H.cursor,
  H.upToDate,
  H.closed,
  H.producerEpoch,
  H.producerSeq,
  H.producerExpectedSeq,
  H.producerReceivedSeq,
  H.sseDataEncoding,
  H.ttl,
  H.expiresAt,
  'etag',
  'content-type',
  'location',
].join(', ')
