/** The content type of topic partitions and of every JSON body. */
export const JSON_CONTENT_TYPE = 'application/json'

/** The media type without parameters, lower-cased: what two content types must share to match. */
export function normalizeContentType(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase()
}

export const isJsonType = (contentType: string): boolean =>
  normalizeContentType(contentType) === JSON_CONTENT_TYPE

/** SSE carries text as is; any other stream's bytes are sent base64-encoded (PROTOCOL.md §5.7). */
export const isTextType = (contentType: string): boolean => {
  const type = normalizeContentType(contentType)
  return type.startsWith('text/') || type === JSON_CONTENT_TYPE
}
