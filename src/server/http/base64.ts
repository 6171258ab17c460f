/**
 * Base64 of bytes with web-standard APIs only (btoa), so the HTTP app runs outside Node too.
 * Chunked: `String.fromCharCode(...bytes)` of a large chunk would overflow the call stack.
 */
export function base64(bytes: Uint8Array, url = false): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  }
  const standard = btoa(binary)
  return url ? standard.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') : standard
}
