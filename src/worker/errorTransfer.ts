import { transferHandlers, type TransferHandler } from 'comlink'
import { DualityError, errorFromJSON } from '../log/errors.ts'

type Thrown = { isError: boolean; value: { message: string; name: string; code?: string } }

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
      if (error instanceof DualityError) serialized.value.code = error.code
      return [serialized, transferables]
    },
    deserialize(serialized: Thrown) {
      if (serialized.isError && serialized.value.code) {
        throw errorFromJSON({ code: serialized.value.code, message: serialized.value.message })
      }
      return base.deserialize(serialized)
    },
  } satisfies TransferHandler<unknown, Thrown>)
}
