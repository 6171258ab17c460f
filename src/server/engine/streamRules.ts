import { normalizeContentType } from '../../protocol/index.ts'
import type { StreamRow } from './streamRows.ts'
import type { ReadOutcome } from './outcomes.ts'

/** Rules every backend applies the same way, whatever it stores streams in. */

export const octetStream = 'application/octet-stream'

/** Content types compare without parameters' case and spacing; none means octet-stream. */
export const sameType = (a: string, b: string): boolean =>
  (normalizeContentType(a) || octetStream) === (normalizeContentType(b) || octetStream)

/** Past its Stream-Expires-At, or idle longer than its Stream-TTL. */
export function expired(row: StreamRow, now: number): boolean {
  if (row.expiresAt !== null) {
    const at = Date.parse(row.expiresAt)
    if (!Number.isFinite(at) || now >= at) return true
  }
  return row.ttlSeconds !== null && now >= row.lastAccessedAt + row.ttlSeconds * 1000
}

/**
 * A read from the tail or past it: no records, and the next read starts where this one asked
 * (PROTOCOL.md §5.5), so a long-poll from an offset a server has not seen yet (another server's
 * append, metadata read from a lagging replica) waits for it instead of answering from below it.
 */
export const atOrBeyondTail = (stream: StreamRow, start: number): ReadOutcome => ({
  kind: 'ok',
  stream,
  records: [],
  nextOffset: start,
  upToDate: true,
})
