/**
 * Stream offsets on the wire (PROTOCOL.md §6). The protocol treats offsets as opaque strings that
 * sort like the positions they name; duality encodes a partition offset (the number of records
 * before the position) as `<16 digits>_<16 digits>`, both zero-padded, so string order is numeric
 * order. The first part is reserved (always 0) and kept because Durable Streams clients and the
 * conformance suite use the `0000000000000000_0000000000000000` shape for the start of a stream.
 */
const pattern = /^(\d{1,16})_(\d{1,16})$/

const pad = (n: number): string => String(n).padStart(16, '0')

/** The `offset` parameter that reads from the beginning of a stream. */
export const START_OFFSET = '-1'
/** The `offset` parameter that reads from the current tail (only what is appended later). */
export const NOW_OFFSET = 'now'

export function formatOffset(offset: number): string {
  return `${pad(0)}_${pad(offset)}`
}

/**
 * The partition offset of a wire offset, or undefined when the token is not one of ours (a
 * nonzero reserved part included: no duality server sends one, so accepting it would read the
 * wrong position silently).
 */
export function parseOffset(token: string | null | undefined): number | undefined {
  const m = token == null ? null : pattern.exec(token)
  if (!m || Number(m[1]) !== 0) return undefined
  const n = Number(m[2])
  return Number.isSafeInteger(n) ? n : undefined
}

/** Orders two wire offsets: as strings, which is the protocol's promise for any server's offsets. */
export const compareOffsets = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** A read's starting point as the client asked for it: a position, the beginning, or the tail. */
export type ReadFrom = { kind: 'start' } | { kind: 'now' } | { kind: 'offset'; offset: number }

/** Parses the `offset` query parameter (absent means the start); undefined when malformed. */
export function parseReadFrom(token: string | undefined): ReadFrom | undefined {
  if (token === undefined || token === START_OFFSET) return { kind: 'start' }
  if (token === NOW_OFFSET) return { kind: 'now' }
  const offset = parseOffset(token)
  return offset === undefined ? undefined : { kind: 'offset', offset }
}

/** The `offset` query parameter for a starting point. */
export function formatReadFrom(from: ReadFrom): string {
  switch (from.kind) {
    case 'start':
      return START_OFFSET
    case 'now':
      return NOW_OFFSET
    case 'offset':
      return formatOffset(from.offset)
  }
}
