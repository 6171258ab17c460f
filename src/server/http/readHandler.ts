import {
  isJsonType,
  responseCursor,
  formatOffset,
  parseReadFrom,
  type ReadFrom,
  H,
  Q,
} from '../../protocol/index.ts'
import { errorResponse } from './errorResponse.ts'
import { formatJsonArray } from './jsonMessages.ts'
import type { ReadOutcome } from '../engine/outcomes.ts'
import type { StoredRecord, StreamRow } from '../engine/streamRows.ts'
import { sseResponse } from './sseResponse.ts'
import { topicRecordJson } from '../topics/topicRecords.ts'
import type { Engine } from '../engine/Engine.ts'

export interface ReadSettings {
  longPollTimeoutMs: number
  sseMaxDurationMs: number
  /** Cache-Control of a full (non-tail) chunk: its bytes never change. */
  immutableCacheControl: string
}

/** Parses `offset` and `live`; a string is a 400 message. */
export function parseReadQuery(
  url: URL,
): { from: ReadFrom; live: string | null; given: boolean } | string {
  const offsets = url.searchParams.getAll(Q.offset)
  if (offsets.length > 1) return 'Send one offset parameter'
  const token = offsets[0]
  if (token === '') return 'The offset parameter is empty'
  const from = parseReadFrom(token)
  if (!from) return `"${token}" is not an offset: use -1, now, or a Stream-Next-Offset value`
  const live = url.searchParams.get(Q.live)
  if ((live === 'long-poll' || live === 'sse') && token === undefined) {
    return `live=${live} needs an offset parameter`
  }
  return { from, live, given: token !== undefined }
}

export function failedRead(outcome: Exclude<ReadOutcome, { kind: 'ok' }>): Response {
  switch (outcome.kind) {
    case 'notFound':
      return errorResponse(404, 'STREAM_NOT_FOUND', 'No stream at this path')
    case 'gone':
      return errorResponse(410, 'STREAM_GONE', 'The stream was deleted or expired')
    case 'belowStart':
      return errorResponse(
        410,
        'OFFSET_OUT_OF_RANGE',
        `Records below ${formatOffset(outcome.startOffset)} were removed by retention: read from there`,
        { [H.nextOffset]: formatOffset(outcome.startOffset) },
      )
  }
}

export function recordsBody(
  stream: StreamRow,
  records: readonly StoredRecord[],
): Uint8Array<ArrayBuffer> {
  if (stream.topic !== null) return formatJsonArray(records.map(topicRecordJson))
  if (isJsonType(stream.contentType)) return formatJsonArray(records.map((r) => r.data))
  const total = records.reduce((n, r) => n + r.data.length, 0)
  const out = new Uint8Array(total)
  let at = 0
  for (const r of records) {
    out.set(r.data, at)
    at += r.data.length
  }
  return out
}

/** GET: catch-up, long-poll or SSE. */
export async function handleRead(
  engine: Engine,
  path: string,
  url: URL,
  headers: Headers,
  settings: ReadSettings,
  signal: AbortSignal,
): Promise<Response> {
  const query = parseReadQuery(url)
  if (typeof query === 'string') return errorResponse(400, 'INVALID_OFFSET', query)
  const { from, live } = query
  const cursor = url.searchParams.get(Q.cursor) ?? undefined
  let outcome = await engine.read(path, from)
  if (outcome.kind !== 'ok') return failedRead(outcome)
  if (live === 'sse') return sseResponse(engine, path, outcome, cursor, settings, signal)
  const longPoll = live === 'long-poll'
  if (from.kind === 'now' && !longPoll) {
    const h: Record<string, string> = {
      'content-type': outcome.stream.contentType,
      [H.nextOffset]: formatOffset(outcome.nextOffset),
      [H.upToDate]: 'true',
      'cache-control': 'no-store',
    }
    if (outcome.stream.closed) h[H.closed] = 'true'
    return new Response(isJsonType(outcome.stream.contentType) ? '[]' : '', { headers: h })
  }
  if (longPoll && outcome.records.length === 0) {
    const waitFrom = outcome.nextOffset
    // Until records at or after the offset arrive: a wake-up can bring records below it (a
    // long-poll from past the tail), and then the wait goes on for what is left of the timeout.
    const deadline = performance.now() + settings.longPollTimeoutMs
    while (!outcome.stream.closed && outcome.records.length === 0) {
      const left = deadline - performance.now()
      if (left <= 0) break
      const woke = await engine.waitForChange(outcome.stream.id, left, signal)
      outcome = await engine.read(path, { kind: 'offset', offset: waitFrom })
      if (outcome.kind !== 'ok') return failedRead(outcome)
      if (woke !== 'changed') break
    }
    if (outcome.records.length === 0) {
      const h: Record<string, string> = {
        [H.nextOffset]: formatOffset(outcome.nextOffset),
        [H.upToDate]: 'true',
        [H.cursor]: responseCursor(cursor, engine.now()),
        'cache-control': 'no-store',
      }
      if (outcome.stream.closed) h[H.closed] = 'true'
      return new Response(null, { status: 204, headers: h })
    }
  }
  const { stream, records, nextOffset, upToDate } = outcome
  const closedAtTail = stream.closed && upToDate
  const start = from.kind === 'offset' ? formatOffset(from.offset) : '-1'
  const etag = `"${stream.id}:${start}:${formatOffset(nextOffset)}${closedAtTail ? ':c' : ''}"`
  const h: Record<string, string> = {
    'content-type': stream.contentType,
    [H.nextOffset]: formatOffset(nextOffset),
    etag,
    // A chunk below the tail never changes; one at the tail must be revalidated (its ETag).
    'cache-control': upToDate ? 'no-cache' : settings.immutableCacheControl,
  }
  if (longPoll) h[H.cursor] = responseCursor(cursor, engine.now())
  if (upToDate) h[H.upToDate] = 'true'
  if (closedAtTail) h[H.closed] = 'true'
  if (headers.get('if-none-match') === etag) {
    return new Response(null, {
      status: 304,
      headers: { etag, 'cache-control': h['cache-control']! },
    })
  }
  return new Response(recordsBody(stream, records), { headers: h })
}

/** HEAD: metadata only, never cached, and not an access for the sliding TTL. */
export async function handleHead(engine: Engine, path: string): Promise<Response> {
  const found = await engine.head(path)
  if (found.kind === 'notFound') return new Response(null, { status: 404 })
  if (found.kind === 'gone') return new Response(null, { status: 410 })
  const s = found.stream
  const h: Record<string, string> = {
    'content-type': s.contentType,
    [H.nextOffset]: formatOffset(s.nextOffset),
    'cache-control': 'no-store',
    etag: `"${s.id}:-1:${formatOffset(s.nextOffset)}${s.closed ? ':c' : ''}"`,
  }
  if (s.closed) h[H.closed] = 'true'
  if (s.ttlSeconds !== null) h[H.ttl] = String(s.ttlSeconds)
  if (s.expiresAt !== null) h[H.expiresAt] = s.expiresAt
  return new Response(null, { status: 200, headers: h })
}
