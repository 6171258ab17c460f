/** The media type without parameters, lower-cased: what two content types must share to match. */
export function normalizeContentType(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase()
}

export const isJsonType = (contentType: string): boolean =>
  normalizeContentType(contentType) === 'application/json'

/** SSE carries text as is; any other stream's bytes are sent base64-encoded. */
export const isTextType = (contentType: string): boolean => {
  const type = normalizeContentType(contentType)
  return type.startsWith('text/') || type === 'application/json'
}
