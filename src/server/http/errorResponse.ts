import type { DualityErrorCode } from '../../log/errors.ts'

/** The `code` of an error body: duality's codes where one fits, protocol-specific ones otherwise. */
export type ServerErrorCode =
  | DualityErrorCode
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

/** Every error the server sends: `{ error: { code, message } }`, JSON, with the right status. */
export interface ErrorBody {
  error: { code: ServerErrorCode; message: string }
}

export function errorResponse(
  status: number,
  code: ServerErrorCode,
  message: string,
  headers: Record<string, string> = {},
): Response {
  const body: ErrorBody = { error: { code, message } }
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...headers, 'content-type': 'application/json' },
  })
}
