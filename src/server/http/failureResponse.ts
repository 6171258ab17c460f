import { toResponse, type Answer } from './answer.ts'
import { errorAnswer } from './errorResponse.ts'
import { TransactionAborted } from '../engines/embedded/ServerStorage.ts'
import { JSON_CONTENT_TYPE } from '../../protocol/index.ts'
import { schemaRefusal } from '../topics/topicSchemas.ts'

/**
 * The answer to a request whose handling threw: 400 when the client hung up mid-body (`aborted`),
 * 507 when the storage is full, else 500. One function for hono's onError and the direct append
 * path (node/directAppend.ts), so both answer a failure alike.
 */
export function failureAnswer(error: unknown, aborted: boolean): Answer {
  // A client that hung up mid-body is not a server failure: nothing was written, nobody is
  // listening for the answer, and logging each would let any client flood the log.
  if (aborted || (error as { code?: string } | null)?.code === 'ECONNRESET') {
    return errorAnswer(400, 'BAD_REQUEST', 'The request body was cut off')
  }
  // A typed topic's schema refused a record (topics/topicSchemas.ts): the client's fault, a 400.
  const refusal = schemaRefusal(error)
  if (refusal) {
    return {
      status: 400,
      headers: { 'content-type': JSON_CONTENT_TYPE },
      body: JSON.stringify({ error: refusal }),
    }
  }
  if (storageFull(error)) {
    console.error('duality server: storage full', error)
    return errorAnswer(507, 'QUOTA_EXCEEDED', "The server's storage is full: nothing was written")
  }
  console.error('duality server: request failed', error)
  return errorAnswer(500, 'UNKNOWN_SERVER_ERROR', 'The server failed to handle the request')
}

export const failureResponse = (error: unknown, aborted: boolean): Response =>
  toResponse(failureAnswer(error, aborted))

/** SQLite's SQLITE_FULL and JetStream's insufficient (storage) resources. */
function storageFull(error: unknown): boolean {
  // A nested write that SQLite's full disk aborted arrives as TransactionAborted, its cause.
  if (error instanceof TransactionAborted) return storageFull(error.cause)
  const code = error instanceof Error && 'code' in error ? error.code : undefined
  return code === 'SQLITE_FULL' || code === 10023 || code === 10047
}
