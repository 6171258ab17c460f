import { scanJsonArray } from './jsonArrayScan.ts'

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
 * array (a batch), and any other value is one message. A batch is validated and cut into its
 * messages by one scan of the body's own bytes (scanJsonArray: no JSON.parse, no copy), which
 * is most of an append's cost otherwise. A message with whitespace between its tokens is
 * re-serialised compact, so what is stored is compact JSON either way. An empty array is
 * refused on append and means "no initial data" on create.
 */
export function parseJsonMessages(body: Uint8Array, allowEmpty: boolean): JsonParse {
  if (!startsArray(body)) return parseOne(body)
  const scanned = scanJsonArray(body, maxJsonDepth)
  if (!scanned || (scanned.sawHighByte && !isUtf8(body))) return invalid
  const { elements } = scanned
  if (elements.length === 0 && !allowEmpty) {
    return { ok: false, message: 'Empty JSON arrays are not allowed: send at least one message' }
  }
  const messages: Uint8Array[] = new Array<Uint8Array>(elements.length / 3)
  for (let e = 0, m = 0; e < elements.length; e += 3, m++) {
    const element = body.subarray(elements[e]!, elements[e + 1]!)
    messages[m] =
      elements[e + 2] === 1
        ? encoder.encode(JSON.stringify(JSON.parse(decoder.decode(element))))
        : element
  }
  return { ok: true, messages }
}

/** One message that is not a batch: parsed, then stored as its compact serialisation. */
function parseOne(body: Uint8Array): JsonParse {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(body))
  } catch {
    return invalid
  }
  if (nestedTooDeeply(body)) return invalid
  try {
    return { ok: true, messages: [encoder.encode(JSON.stringify(value))] }
  } catch {
    return invalid // nested too deeply to re-serialise
  }
}

/** Whether the first JSON token (after a byte order mark and whitespace) opens an array. */
function startsArray(body: Uint8Array): boolean {
  let i = body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? 3 : 0
  while (isSpace(body[i]!)) i++
  return body[i] === open
}

function isUtf8(body: Uint8Array): boolean {
  try {
    decoder.decode(body)
    return true
  } catch {
    return false
  }
}

const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09

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
 * (preceded by an odd run of backslashes).
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
