/** PROTOCOL.md §8.1: cursors are 20-second intervals counted from 2024-10-09T00:00:00Z. */
const epochMs = Date.UTC(2024, 9, 9)
const intervalMs = 20_000

/**
 * The cursor for a live response. It never goes backwards for a client: one that echoes a cursor
 * at or past the current interval gets a strictly larger one (1 s to 1 h of jitter, as the protocol
 * says), so a CDN cannot serve the same cached empty response forever.
 */
export function responseCursor(clientCursor: string | undefined, now: number): string {
  const current = Math.floor((now - epochMs) / intervalMs)
  const client = clientCursor === undefined ? NaN : Number.parseInt(clientCursor, 10)
  if (!Number.isSafeInteger(client) || client < current) return String(current)
  const jitterSeconds = 1 + Math.floor(Math.random() * 3600)
  return String(client + Math.max(1, Math.ceil(jitterSeconds / (intervalMs / 1000))))
}
