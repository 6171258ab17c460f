/**
 * Refuses stream paths that could mean something other than they look: dot segments, encoded
 * slashes or backslashes, NUL and control characters, over-long paths. `raw` is the request target
 * exactly as the client sent it (before any URL normalisation removed the `..`).
 */
export function checkPath(raw: string): string | undefined {
  const path = raw.split('?')[0]!
  if (!path.startsWith('/')) return 'The path must start with /'
  if (path.length > 1024) return 'The path is longer than 1024 characters'
  if (/%(2f|5c|00)/i.test(path) || path.includes('\\')) {
    return 'Encoded slashes, backslashes and NUL are not allowed in a stream path'
  }
  // RFC 3986 makes `%61` and `a` the same character, and the router decodes them, but a stream's
  // identity and the resource `authorize` sees are the path as sent: one spelling per path, so
  // `/%61dmin/...` can neither reach the admin API unchecked nor alias another stream.
  if (/%(2[de]|3[0-9]|[46][1-9a-f]|[57][0-9a]|5f|7e)/i.test(path)) {
    return 'Write letters, digits and - . _ ~ as themselves, not percent-encoded'
  }
  let decoded: string
  try {
    decoded = decodeURIComponent(path)
  } catch {
    return 'The path is not valid percent-encoding'
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(decoded)) return 'Control characters are not allowed in a path'
  if (decoded.split('/').some((s) => s === '.' || s === '..')) {
    return 'Dot segments (. and ..) are not allowed in a stream path'
  }
  if (path.includes('//')) return 'Empty path segments are not allowed'
  return undefined
}
