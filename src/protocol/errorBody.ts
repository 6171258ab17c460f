/**
 * Every refusal a duality server sends: `{ "error": { "code", "message" } }`, JSON, with the
 * HTTP status that says what kind of refusal it is. `code` is one of duality's error codes (the
 * log's, Kafka's names) where one fits, or one of the protocol's below.
 */
export type ProtocolErrorCode =
  | 'BAD_REQUEST'
  | 'STREAM_NOT_FOUND'
  | 'STREAM_GONE'
  | 'STREAM_EXISTS'
  | 'STREAM_CLOSED'
  | 'CONTENT_TYPE_MISMATCH'
  | 'SEQUENCE_CONFLICT'
  | 'PRODUCER_FENCED'
  | 'PRODUCER_SEQUENCE_GAP'
  | 'METHOD_NOT_ALLOWED'
  | 'NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'EXPECTATION_FAILED'
  | 'UNSUPPORTED_ENCODING'

export interface ErrorBody<Code extends string = string> {
  error: { code: Code; message: string }
}

export const errorBody = <Code extends string>(code: Code, message: string): ErrorBody<Code> => ({
  error: { code, message },
})

/** The code and message of a parsed response body, or undefined when it is not an error body. */
export function readErrorBody(body: unknown): { code: string; message: string } | undefined {
  if (body === null || typeof body !== 'object') return undefined
  const error = (body as { error?: unknown }).error
  if (error === null || typeof error !== 'object') return undefined
  const { code, message } = error as { code?: unknown; message?: unknown }
  return typeof code === 'string' && typeof message === 'string' ? { code, message } : undefined
}
