const decoder = new TextDecoder('utf-8', { fatal: true })
const encoder = new TextEncoder()

export type JsonParse = { ok: true; messages: Uint8Array[] } | { ok: false; message: string }

/** Deeper values are refused: the server re-serialises topic records, recursively. */
export const maxJsonDepth = 1_000

const invalid: JsonParse = {
  ok: false,
  message: 'The body is not valid JSON (UTF-8), or is nested too deeply',
}

/**
 * The messages of a JSON-mode append: the protocol flattens exactly one level of a top-level
 * array (a batch), and any other value is one message. JSON.parse validates the body; a batch's
 * messages are then cut out of the body's own bytes (one scan, no copy) rather than each
 * re-serialised and encoded, which cost more than the rest of an append together. A message
 * with whitespace between its tokens is re-serialised compact, so what is stored is compact
 * JSON either way. An empty array is refused on append and means "no initial data" on create.
 */
export function parseJsonMessages(body: Uint8Array, allowEmpty: boolean): JsonParse {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(body))
  } catch {
    return invalid
  }
  if (!Array.isArray(value)) {
    if (nestedTooDeeply(body)) return invalid
    try {
      return { ok: true, messages: [encoder.encode(JSON.stringify(value))] }
    } catch {
      return invalid // nested too deeply to re-serialise
    }
  }
  if (value.length === 0 && !allowEmpty) {
    return { ok: false, message: 'Empty JSON arrays are not allowed: send at least one message' }
  }
  const messages = splitArray(body, value)
  return messages ? { ok: true, messages } : invalid
}

const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09

/**
 * The elements of a valid JSON array's bytes, in order; undefined when nested deeper than
 * maxJsonDepth. JSON's structural characters are ASCII, so a byte scan that skips strings finds
 * the top-level commas.
 */
function splitArray(body: Uint8Array, values: readonly unknown[]): Uint8Array[] | undefined {
  const messages: Uint8Array[] = []
  let depth = 0
  let start = -1
  let end = -1
  let spaced = false
  const cut = (): void => {
    const i = messages.length
    messages.push(
      spaced ? encoder.encode(JSON.stringify(values[i])) : body.subarray(start, end + 1),
    )
    start = -1
    spaced = false
  }
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!
    if (isSpace(b)) {
      if (depth > 1) spaced = true
      continue
    }
    if (depth === 1) {
      if (b === comma) {
        cut()
        continue
      }
      if (b === close) {
        if (start >= 0) cut()
        depth = 0
        continue
      }
      if (start < 0) start = i
    }
    if (b === quote) i = stringEnd(body, i)
    else if ((depth += nesting(b)) > maxJsonDepth) return undefined
    end = i
  }
  // Cannot differ for a body JSON.parse took; kept so a scanner bug could never store wrong data.
  if (messages.length !== values.length) return values.map((v) => encoder.encode(JSON.stringify(v)))
  return messages
}

const [open, comma, close, quote] = [0x5b, 0x2c, 0x5d, 0x22]

/** Whether valid JSON bytes nest arrays and objects deeper than maxJsonDepth. */
function nestedTooDeeply(body: Uint8Array): boolean {
  let depth = 0
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!
    if (b === quote) i = stringEnd(body, i)
    else if ((depth += nesting(b)) > maxJsonDepth) return true
  }
  return false
}

/**
 * The index of the closing quote of the JSON string opening at `i`: the next quote not escaped
 * (preceded by an odd run of backslashes). indexOf is a native scan, several times faster than a
 * loop over the string's bytes, which was most of an append's JSON cost.
 */
function stringEnd(body: Uint8Array, i: number): number {
  for (;;) {
    const end = body.indexOf(quote, i + 1)
    if (end < 0) return body.length // cannot happen in JSON that parsed
    let slashes = 0
    while (body[end - 1 - slashes] === 0x5c) slashes++
    if (slashes % 2 === 0) return end
    i = end
  }
}

/** How a structural byte changes the nesting depth: [ and { open, ] and } close. */
const nesting = (b: number): number =>
  b === open || b === 0x7b ? 1 : b === close || b === 0x7d ? -1 : 0

/** JSON-mode messages as the JSON array a read returns, joined as bytes (they are valid JSON). */
export function formatJsonArray(messages: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let size = 2 + Math.max(0, messages.length - 1)
  for (const m of messages) size += m.length
  const out = new Uint8Array(size)
  out[0] = open
  let at = 1
  for (const [i, m] of messages.entries()) {
    if (i > 0) out[at++] = comma
    out.set(m, at)
    at += m.length
  }
  out[at] = close
  return out
}
