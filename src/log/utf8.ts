const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text)
}

export function utf8Decode(bytes: Uint8Array): string {
  return decoder.decode(bytes)
}

// The native regex scan is several times faster than a charCodeAt loop; ASCII text is the norm.
const nonAscii = /[\u0080-\uffff]/

/** Byte length of `text` as UTF-8, without allocating the encoded bytes. */
export function utf8Length(text: string): number {
  if (!nonAscii.test(text)) return text.length
  let bytes = text.length
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) bytes += 1
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      // A surrogate pair is 2 UTF-16 units and 4 UTF-8 bytes.
      bytes += 2
      i++
    } else bytes += 2
  }
  return bytes
}
