const decoder = new TextDecoder('utf-8', { fatal: true })
const encoder = new TextEncoder()

export type JsonParse = { ok: true; messages: Uint8Array[] } | { ok: false; message: string }

/**
 * The messages of a JSON-mode append: the protocol flattens exactly one level of a top-level
 * array (a batch), and any other value is one message. Each message is stored as its compact
 * JSON text. An empty array is refused on append and means "no initial data" on create.
 */
export function parseJsonMessages(body: Uint8Array, allowEmpty: boolean): JsonParse {
  let values: unknown[]
  let messages: Uint8Array[]
  try {
    const value: unknown = JSON.parse(decoder.decode(body))
    values = Array.isArray(value) ? value : [value]
    // Re-serialising is recursive: a value nested too deep for it is refused here, as a 400.
    messages = values.map((v) => encoder.encode(JSON.stringify(v)))
  } catch {
    return { ok: false, message: 'The body is not valid JSON (UTF-8), or is nested too deeply' }
  }
  if (values.length === 0 && !allowEmpty) {
    return { ok: false, message: 'Empty JSON arrays are not allowed: send at least one message' }
  }
  return { ok: true, messages }
}

const [open, comma, close] = [0x5b, 0x2c, 0x5d]

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
