import { transferHandlers, type TransferHandler } from 'comlink'
import { DualityError, errorFromJSON, type ErrorDetails } from '../log/errors.ts'

type Thrown = {
  isError: boolean
  value: { message: string; name: string; code?: string; details?: ErrorDetails }
}

let installed = false

/**
 * Makes errors thrown in the worker arrive in the page as the same typed errors (comlink alone
 * sends a plain Error without its class or `code`). Both sides install it; installing twice is a
 * no-op.
 */
export function installErrorTransfer(): void {
  if (installed) return
  installed = true
  const base = transferHandlers.get('throw') as TransferHandler<unknown, Thrown>
  transferHandlers.set('throw', {
    canHandle: base.canHandle,
    serialize(thrown) {
      const [serialized, transferables] = base.serialize(thrown)
      const error = (thrown as { value: unknown }).value
      if (error instanceof DualityError) {
        const { code, details } = error.toJSON()
        serialized.value.code = code
        // The fields of errors that carry more than a message (ConcurrencyError's offsets).
        if (details) serialized.value.details = details
      }
      return [serialized, transferables]
    },
    deserialize(serialized: Thrown) {
      if (serialized.isError && serialized.value.code) {
        const { code, message, details } = serialized.value
        throw errorFromJSON({ code, message, details })
      }
      return base.deserialize(serialized)
    },
  } satisfies TransferHandler<unknown, Thrown>)
}
