import { checkPath } from './checkPath.ts'
import { errorResponse } from './errorResponse.ts'
import { formatOffset, parseOffset, H } from '../../protocol/index.ts'
import type { Engine } from '../engine/Engine.ts'

const decimal = /^(0|[1-9]\d*)$/
const usableType = /^[\w.+-]+\/[\w.+-]+/

/** RFC 3339 date-time (with a zone), which is all Stream-Expires-At may be. */
const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

/** PUT: create a stream (or a fork), or confirm an identical one exists. */
export async function handleCreate(
  engine: Engine,
  path: string,
  headers: Headers,
  body: Uint8Array,
  location: string,
): Promise<Response> {
  const rawType = headers.get('content-type')?.trim()
  if (rawType && !usableType.test(rawType)) {
    // Stored as octet-stream instead, every later append with the same header would get a 409.
    return errorResponse(400, 'BAD_REQUEST', `Content-Type "${rawType}" is not a media type`)
  }
  const forkedFrom = headers.get(H.forkedFrom) ?? undefined
  const ttl = headers.get(H.ttl)
  const expiresAt = headers.get(H.expiresAt)
  if (ttl !== null && expiresAt !== null) {
    return errorResponse(400, 'BAD_REQUEST', 'Send Stream-TTL or Stream-Expires-At, not both')
  }
  if (ttl !== null && (!decimal.test(ttl) || !Number.isSafeInteger(Number(ttl)))) {
    return errorResponse(400, 'BAD_REQUEST', 'Stream-TTL must be a whole number of seconds')
  }
  if (expiresAt !== null && (!rfc3339.test(expiresAt) || Number.isNaN(Date.parse(expiresAt)))) {
    return errorResponse(400, 'BAD_REQUEST', 'Stream-Expires-At must be an RFC 3339 timestamp')
  }
  const sourceProblem = forkedFrom === undefined ? undefined : checkPath(forkedFrom)
  if (sourceProblem)
    return errorResponse(400, 'BAD_REQUEST', `Stream-Forked-From: ${sourceProblem}`)
  const forkOffset = headers.get(H.forkOffset) ?? undefined
  if (forkOffset !== undefined && parseOffset(forkOffset) === undefined) {
    return errorResponse(400, 'INVALID_OFFSET', 'Stream-Fork-Offset is not an offset')
  }
  const sub = headers.get(H.forkSubOffset)
  if (sub !== null && forkedFrom === undefined) {
    return errorResponse(400, 'BAD_REQUEST', 'Stream-Fork-Sub-Offset needs Stream-Forked-From')
  }
  if (sub !== null && (!decimal.test(sub) || !Number.isSafeInteger(Number(sub)))) {
    return errorResponse(400, 'BAD_REQUEST', 'Stream-Fork-Sub-Offset must be a whole number')
  }
  const outcome = await engine.createStream({
    path,
    contentType: rawType || undefined,
    ttlSeconds: ttl === null ? undefined : Number(ttl),
    expiresAt: expiresAt ?? undefined,
    closed: headers.get(H.closed) === 'true',
    body,
    fork:
      forkedFrom === undefined
        ? undefined
        : { from: forkedFrom, offset: forkOffset, subOffset: sub === null ? 0 : Number(sub) },
  })
  switch (outcome.kind) {
    case 'created':
    case 'exists': {
      const s = outcome.stream
      const h: Record<string, string> = {
        'content-type': s.contentType,
        [H.nextOffset]: formatOffset(s.nextOffset),
      }
      if (outcome.kind === 'created') h['location'] = location
      if (s.closed) h[H.closed] = 'true'
      return new Response(null, { status: outcome.kind === 'created' ? 201 : 200, headers: h })
    }
    case 'conflict':
      return errorResponse(409, 'STREAM_EXISTS', outcome.message)
    case 'sourceNotFound':
      return errorResponse(404, 'STREAM_NOT_FOUND', 'Stream-Forked-From names no stream')
    case 'badRequest':
      return outcome.tooLarge
        ? errorResponse(413, 'MESSAGE_TOO_LARGE', outcome.message)
        : errorResponse(400, 'BAD_REQUEST', outcome.message)
  }
}
