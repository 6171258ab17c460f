/**
 * Stream offsets on the wire. The protocol treats offsets as opaque strings that sort like the
 * positions they name; duality encodes a partition offset (the number of records before the
 * position) as `<16 digits>_<16 digits>`, both zero-padded, so string order is numeric order. The
 * first part is reserved (always 0) and kept because Durable Streams clients and the conformance
 * suite use the `0000000000000000_0000000000000000` shape for the start of a stream.
 */
const pattern = /^(\d{1,16})_(\d{1,16})$/

const pad = (n: number): string => String(n).padStart(16, '0')

export function formatOffset(offset: number): string {
  return `${pad(0)}_${pad(offset)}`
}

/** The partition offset of a wire offset, or undefined when the token is not one of ours. */
export function parseOffset(token: string): number | undefined {
  const m = pattern.exec(token)
  if (!m || Number(m[1]) !== 0) return undefined
  const n = Number(m[2])
  return Number.isSafeInteger(n) ? n : undefined
}

/** A read's starting point as the client asked for it: a position, the beginning, or the tail. */
export type ReadFrom = { kind: 'start' } | { kind: 'now' } | { kind: 'offset'; offset: number }

/** Parses the `offset` query parameter; undefined when malformed. */
export function parseReadFrom(token: string | undefined): ReadFrom | undefined {
  if (token === undefined || token === '-1') return { kind: 'start' }
  if (token === 'now') return { kind: 'now' }
  const offset = parseOffset(token)
  return offset === undefined ? undefined : { kind: 'offset', offset }
}
