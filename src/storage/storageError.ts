import { ClosedError, QuotaExceededError, StorageError } from '../log/errors.ts'

const idbErrorNames = new Set([
  'AbortError',
  'ConstraintError',
  'DataCloneError',
  'DataError',
  'InvalidAccessError',
  'NotFoundError',
  'ReadOnlyError',
  'TimeoutError',
  'UnknownError',
  'VersionError',
])

/**
 * Turns storage DOMExceptions (IndexedDB's, structuredClone's) into the log's typed errors; other
 * errors, the engine's own typed ones included, pass through.
 */
export function storageError(error: unknown): Error {
  if (error instanceof ClosedError || error instanceof StorageError) return error
  const name = (error as { name?: string } | null)?.name
  if (name === 'QuotaExceededError') {
    return new QuotaExceededError(
      'The browser refused to store more data (QuotaExceededError). Nothing of this write was ' +
        'stored; free space (retention, deleteTopics) or ask for persistent storage.',
      { cause: error },
    )
  }
  if (name === 'InvalidStateError' || name === 'TransactionInactiveError') {
    return new ClosedError(`The IndexedDB connection is closed or gone (${name}).`)
  }
  if (error instanceof Error && !idbErrorNames.has(name ?? '')) return error
  return new StorageError(`IndexedDB failed: ${String((error as Error)?.message ?? error)}`, {
    cause: error,
  })
}
