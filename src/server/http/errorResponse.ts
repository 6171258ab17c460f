import type { DualityErrorCode } from '../../log/errors.ts'
import { errorBody, JSON_CONTENT_TYPE, type ProtocolErrorCode } from '../../protocol/index.ts'
import { toResponse, type Answer } from './answer.ts'

/** The `code` of an error body: duality's codes where one fits, the protocol's otherwise. */
export type ServerErrorCode = DualityErrorCode | ProtocolErrorCode

/** A refusal: the status, the JSON `{ error: { code, message } }` body, any extra headers. */
export function errorAnswer(
  status: number,
  code: ServerErrorCode,
  message: string,
  headers: Record<string, string> = {},
): Answer {
  return {
    status,
    headers: { ...headers, 'content-type': JSON_CONTENT_TYPE },
    body: JSON.stringify(errorBody(code, message)),
  }
}

export function errorResponse(
  status: number,
  code: ServerErrorCode,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return toResponse(errorAnswer(status, code, message, headers))
}
