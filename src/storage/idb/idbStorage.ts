import { openDB, unwrap, type IDBPDatabase, type IDBPTransaction } from 'idb'
import { ClosedError, StorageError } from '../../log/errors.ts'
import { storageError } from '../storageError.ts'
import {
  keyPaths,
  storeNames,
  type KeyRange,
  type LogStorage,
  type ReadTx,
  type Rows,
  type StoreName,
  type WriteTx,
} from '../../log/LogStorage.ts'

export interface IdbStorageOptions {
  /** The IndexedDB database name; one log per name. */
  name: string
  /** Default durability of writes (default 'relaxed': strict waits for the disk, measured in docs/benchmarks.md). */
  durability?: 'relaxed' | 'strict'
}

export interface IdbStorage extends LogStorage {
  readonly db: IDBPDatabase
}

// 2 added the `snapshots` store; the upgrade creates whatever store is missing.
const VERSION = 2

const toIdbRange = (Range: typeof IDBKeyRange, range?: KeyRange): IDBKeyRange | undefined => {
  if (!range) return undefined
  const { lower, upper, lowerOpen = false, upperOpen = false } = range
  if (lower !== undefined && upper !== undefined)
    return Range.bound(lower, upper, lowerOpen, upperOpen)
  if (lower !== undefined) return Range.lowerBound(lower, lowerOpen)
  if (upper !== undefined) return Range.upperBound(upper, upperOpen)
  return undefined
}

/**
 * Storage in IndexedDB through `idb`. Write bodies must await only this transaction's requests;
 * puts and deletes are fired without awaiting and their failures surface through `tx.done`.
 */
export async function idbStorage(options: IdbStorageOptions): Promise<IdbStorage> {
  const Range = globalThis.IDBKeyRange
  if (typeof indexedDB === 'undefined')
    throw new StorageError('IndexedDB is not available in this environment.')
  let db: IDBPDatabase
  try {
    db = await openDB(options.name, VERSION, {
      upgrade(database) {
        for (const store of storeNames) {
          if (!database.objectStoreNames.contains(store)) {
            database.createObjectStore(store, { keyPath: keyPaths[store] })
          }
        }
      },
      blocking() {
        // Another connection wants to upgrade or delete the database: let it.
        db.close()
      },
    })
  } catch (error) {
    throw storageError(error)
  }
  let closed = false

  // A body may issue a read and fail (or abort) before awaiting it; the read then rejects with
  // AbortError, which must not surface as an unhandled rejection. The body still sees it if it awaits.
  const handled = <T>(request: Promise<T>): Promise<T> => {
    request.catch(() => undefined)
    return request
  }

  const reader = (tx: IDBPTransaction<unknown, StoreName[], IDBTransactionMode>): ReadTx => ({
    get: (store, key) =>
      handled(tx.objectStore(store).get(key) as Promise<Rows[typeof store] | undefined>),
    getAll: (store, range, count) =>
      handled(
        tx.objectStore(store).getAll(toIdbRange(Range, range), count) as Promise<
          Rows[typeof store][]
        >,
      ),
    getLast: (store, range) =>
      handled(
        tx
          .objectStore(store)
          .openCursor(toIdbRange(Range, range), 'prev')
          .then((cursor) => cursor?.value as Rows[typeof store] | undefined),
      ),
  })

  const transaction = (
    stores: readonly StoreName[],
    mode: IDBTransactionMode,
    durability?: string,
  ) => {
    if (closed) throw new ClosedError('This storage is closed; open a new one to continue.')
    try {
      return db.transaction(
        stores as StoreName[],
        mode,
        durability ? { durability: durability as IDBTransactionDurability } : {},
      ) as unknown as IDBPTransaction<unknown, StoreName[], IDBTransactionMode>
    } catch (error) {
      throw storageError(error)
    }
  }

  return {
    kind: 'indexeddb',
    db,
    async read(stores, body) {
      const tx = transaction(stores, 'readonly')
      try {
        return await body(reader(tx))
      } catch (error) {
        throw storageError(error)
      }
    },
    async write(stores, body, writeOptions) {
      const tx = transaction(
        stores,
        'readwrite',
        writeOptions?.durability ?? options.durability ?? 'relaxed',
      )
      // Attach early so an abort while the body runs is never an unhandled rejection.
      const done = tx.done.then(
        () => undefined,
        (error: unknown) => error ?? tx.error ?? new Error('transaction aborted'),
      )
      const raw = (store: StoreName) => unwrap(tx.objectStore(store))
      const writer: WriteTx = {
        ...reader(tx),
        put: (store, row) => void raw(store).put(row),
        delete: (store, key) => void raw(store).delete(key),
        deleteRange: (store, range) => void raw(store).delete(toIdbRange(Range, range)!),
      }
      let result
      try {
        result = await body(writer)
      } catch (error) {
        try {
          tx.abort()
        } catch {
          // Already finished or aborted: the body's error is the one to report.
        }
        await done
        throw storageError(error)
      }
      const failure = await done
      if (failure) throw storageError(failure)
      return result
    },
    async close() {
      closed = true
      db.close()
    },
  }
}
