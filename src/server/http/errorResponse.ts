import type { DualityErrorCode } from '../../log/errors.ts'
import { errorBody, JSON_CONTENT_TYPE, type ProtocolErrorCode } from '../../protocol/index.ts'

/** The `code` of an error body: duality's codes where one fits, the protocol's otherwise. */
export type ServerErrorCode = DualityErrorCode | ProtocolErrorCode

export function errorResponse(
  status: number,
  code: ServerErrorCode,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(errorBody(code, message)), {
    status,
    headers: { ...headers, 'content-type': JSON_CONTENT_TYPE },
  })
}
