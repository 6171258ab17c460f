import type { LogStorage } from '../log/LogStorage.ts'

/**
 * A storage usable before it is open: every call waits for `opening`. It lets a worker expose its
 * API synchronously (messages sent before a listener exists would be lost) while IndexedDB opens.
 */
export function deferredStorage(opening: Promise<LogStorage>): LogStorage {
  // A failure to open reaches every call; it is never an unhandled rejection of its own.
  opening.catch(() => undefined)
  return {
    kind: 'deferred',
    read: async (stores, body) => (await opening).read(stores, body),
    write: async (stores, body, options) => (await opening).write(stores, body, options),
    close: async () => (await opening).close(),
  }
}
