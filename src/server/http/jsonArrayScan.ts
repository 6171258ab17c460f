/** What scanJsonArray found in a valid JSON array. */
export interface ScannedArray {
  /** Flat triples per element: start, end (exclusive), 1 if it must be re-serialised compact. */
  elements: number[]
  /** A byte >= 0x80 was seen (inside a string): the caller must still check the UTF-8. */
  sawHighByte: boolean
}

/**
 * One pass over a JSON body whose first token is `[` that both validates it with JSON.parse's
 * grammar (RFC 8259: the four whitespace bytes, strict numbers and literals, the escapes, no
 * control characters in strings) and finds where each top-level element starts and ends.
 * JSON.parse building every value only for it to be dropped, then a second scan to cut the
 * elements out, were most of an append's CPU; this reads each byte once and allocates nothing per
 * value. An element "must be re-serialised" when whitespace sits between its own tokens, so that
 * what is stored is compact JSON either way.
 *
 * Undefined when the body is not valid JSON or nests arrays and objects deeper than `maxDepth`
 * (the outer array counts as one level).
 */
export function scanJsonArray(body: Uint8Array, maxDepth: number): ScannedArray | undefined {
  return new Scan(body).array(maxDepth)
}

const [openArray, closeArray, openObject, closeObject] = [0x5b, 0x5d, 0x7b, 0x7d]
const [quote, backslash, comma, colon, minus, digit0, digit9] = [
  0x22, 0x5c, 0x2c, 0x3a, 0x2d, 0x30, 0x39,
]
const literals: Readonly<Record<number, readonly number[]>> = {
  0x74: [0x74, 0x72, 0x75, 0x65], // true
  0x66: [0x66, 0x61, 0x6c, 0x73, 0x65], // false
  0x6e: [0x6e, 0x75, 0x6c, 0x6c], // null
}

/** The scan's position and what it has seen; every step either advances `i` or fails. */
class Scan {
  i = 0
  sawHighByte = false
  /** Whitespace was skipped inside the current top-level element. */
  spaced = false

  constructor(private readonly body: Uint8Array) {}

  array(maxDepth: number): ScannedArray | undefined {
    const body = this.body
    // TextDecoder drops a leading byte order mark, so JSON.parse never saw one: neither do we.
    if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) this.i = 3
    this.skipSpace(false)
    if (body[this.i] !== openArray) return undefined
    this.i++
    const elements: number[] = []
    // The open containers, innermost last (true: an object). Index 0 is the outer array.
    const inObject: boolean[] = [false]
    let start = 0
    this.skipSpace(false)
    if (body[this.i] === closeArray) {
      this.i++
      return this.end(elements)
    }
    for (;;) {
      // A value starts at i.
      const top = inObject.length === 1
      if (top) {
        start = this.i
        this.spaced = false
      }
      const b = body[this.i]
      if (b === openArray || b === openObject) {
        if (inObject.length === maxDepth) return undefined
        const object = b === openObject
        inObject.push(object)
        this.i++
        this.skipSpace(true)
        if (body[this.i] !== (object ? closeObject : closeArray)) {
          if (object && !this.key()) return undefined
          continue
        }
        inObject.pop()
        this.i++
      } else if (!this.scalar(b)) return undefined
      // After a value: a comma, then the next value (or key), or its container's closer.
      for (;;) {
        if (inObject.length === 1) elements.push(start, this.i, this.spaced ? 1 : 0)
        const nested = inObject.length > 1
        this.skipSpace(nested)
        const c = body[this.i]
        const object = inObject[inObject.length - 1]!
        if (c === comma) {
          this.i++
          this.skipSpace(nested)
          if (object && !this.key()) return undefined
          break
        }
        if (c !== (object ? closeObject : closeArray)) return undefined
        inObject.pop()
        this.i++
        if (inObject.length === 0) return this.end(elements)
      }
    }
  }

  /** Only whitespace may follow the outer array. */
  private end(elements: number[]): ScannedArray | undefined {
    this.skipSpace(false)
    return this.i === this.body.length ? { elements, sawHighByte: this.sawHighByte } : undefined
  }

  /** Skips JSON whitespace; inside an element (`nested`), notes that the element is spaced. */
  private skipSpace(nested: boolean): void {
    const body = this.body
    const from = this.i
    let i = from
    while (i < body.length && isSpace[body[i]!] === 1) i++
    if (nested && i > from) this.spaced = true
    this.i = i
  }

  /** A key, the colon and the whitespace up to the value (keys are always inside an element). */
  private key(): boolean {
    if (this.body[this.i] !== quote || !this.string()) return false
    this.skipSpace(true)
    if (this.body[this.i] !== colon) return false
    this.i++
    this.skipSpace(true)
    return true
  }

  private scalar(b: number | undefined): boolean {
    if (b === quote) return this.string()
    if (b === minus || isDigit(b)) return this.number()
    const bytes = b === undefined ? undefined : literals[b]
    if (!bytes) return false
    for (let k = 0; k < bytes.length; k++) if (this.body[this.i + k] !== bytes[k]) return false
    this.i += bytes.length
    return true
  }

  /** The string opening at i: no control characters, only JSON's escapes. */
  private string(): boolean {
    const body = this.body
    const n = body.length
    let i = this.i + 1
    for (;;) {
      // Most of a body is string bytes: one table look-up each for the common case.
      while (i < n && stringByte[body[i]!] === plain) i++
      if (i >= n) return false
      const b = body[i]!
      if (b === quote) break
      if (b < 0x20) return false
      if (b >= 0x80) this.sawHighByte = true
      else {
        // A backslash.
        const e = body[++i]
        if (e === 0x75 /* u */) {
          for (let k = 0; k < 4; k++) if (!isHex(body[++i])) return false
        } else if (!isEscape(e)) return false
      }
      i++
    }
    this.i = i + 1
    return true
  }

  /** -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
  private number(): boolean {
    const body = this.body
    let i = this.i
    if (body[i] === minus) i++
    if (body[i] === digit0) i++
    else if (isDigit(body[i])) while (isDigit(body[++i]));
    else return false
    if (body[i] === 0x2e /* . */) {
      if (!isDigit(body[++i])) return false
      while (isDigit(body[++i]));
    }
    if (body[i] === 0x65 || body[i] === 0x45 /* e E */) {
      i++
      if (body[i] === 0x2b || body[i] === minus) i++
      if (!isDigit(body[i])) return false
      while (isDigit(body[++i]));
    }
    this.i = i
    return true
  }
}

const plain = 0
/** 1 for the bytes a string cannot simply continue with: quote, backslash, control, >= 0x80. */
const stringByte = new Uint8Array(256).map((_, b) =>
  b === quote || b === backslash || b < 0x20 || b >= 0x80 ? 1 : plain,
)
const isSpace = new Uint8Array(256).map((_, b) =>
  b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 ? 1 : 0,
)

const isDigit = (b: number | undefined): boolean => b !== undefined && b >= digit0 && b <= digit9

const isHex = (b: number | undefined): boolean =>
  isDigit(b) || (b !== undefined && ((b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46)))

/** The escapes after a backslash besides \u: " \ / b f n r t. */
const isEscape = (b: number | undefined): boolean =>
  b === quote ||
  b === backslash ||
  b === 0x2f ||
  b === 0x62 ||
  b === 0x66 ||
  b === 0x6e ||
  b === 0x72 ||
  b === 0x74
