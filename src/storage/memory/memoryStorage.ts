import { compareKeys } from '../../log/compareKeys.ts'
import { ClosedError } from '../../log/errors.ts'
import {
  keyPaths,
  storeNames,
  type Key,
  type KeyRange,
  type LogStorage,
  type ReadTx,
  type Rows,
  type StoreName,
  type WriteTx,
} from '../../log/LogStorage.ts'
import { storageError } from '../storageError.ts'

interface Entry {
  key: Key
  row: unknown
}

/** The data behind memory storages; share it to "reopen" the same in-memory database. */
export class MemoryDatabase {
  readonly stores = new Map<StoreName, Entry[]>(storeNames.map((s) => [s, []]))
}

export interface MemoryStorageOptions {
  /** Reuse the data of an earlier memory storage (tests use this to close and reopen). */
  database?: MemoryDatabase
}

export interface MemoryStorage extends LogStorage {
  readonly database: MemoryDatabase
}

const keyOf = (store: StoreName, row: unknown): Key => {
  const path = keyPaths[store]
  const r = row as Record<string, Key>
  return typeof path === 'string' ? r[path]! : path.map((p) => r[p]!)
}

/** First index whose key is >= key (or > key when `after`). */
function search(entries: Entry[], key: Key, after: boolean): number {
  let lo = 0
  let hi = entries.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const c = compareKeys(entries[mid]!.key, key)
    if (c < 0 || (after && c === 0)) lo = mid + 1
    else hi = mid
  }
  return lo
}

function bounds(entries: Entry[], range: KeyRange | undefined): [number, number] {
  const from =
    range?.lower === undefined ? 0 : search(entries, range.lower, range.lowerOpen === true)
  const to =
    range?.upper === undefined
      ? entries.length
      : search(entries, range.upper, range.upperOpen !== true)
  return [from, Math.max(from, to)]
}

// Rows are cloned on the way in and out, as IndexedDB does: callers can never alias stored state.
const clone = <T>(row: T): T => structuredClone(row)

type Op =
  | { kind: 'put'; store: StoreName; row: unknown }
  | { kind: 'delete'; store: StoreName; key: Key }
  | { kind: 'deleteRange'; store: StoreName; range: KeyRange }

/**
 * Storage in memory: sorted arrays per store. Writes are buffered and applied in one synchronous
 * step at commit, so a failing transaction leaves nothing behind and readers never see half of one.
 */
export function memoryStorage(options: MemoryStorageOptions = {}): MemoryStorage {
  const database = options.database ?? new MemoryDatabase()
  let closed = false
  let writeQueue: Promise<unknown> = Promise.resolve()

  const entries = (store: StoreName): Entry[] => database.stores.get(store)!

  const check = () => {
    if (closed) throw new ClosedError('This storage is closed; open a new one to continue.')
  }

  const reader = (guard: () => void): ReadTx => ({
    async get(store, key) {
      guard()
      const list = entries(store)
      const i = search(list, key, false)
      const hit = list[i]
      return hit && compareKeys(hit.key, key) === 0
        ? clone(hit.row as Rows[typeof store])
        : undefined
    },
    async getAll(store, range, count) {
      guard()
      const list = entries(store)
      const [from, to] = bounds(list, range)
      const end = count === undefined ? to : Math.min(to, from + count)
      const out: Rows[typeof store][] = []
      for (let i = from; i < end; i++) out.push(clone(list[i]!.row as Rows[typeof store]))
      return out
    },
    async getLast(store, range) {
      guard()
      const list = entries(store)
      const [from, to] = bounds(list, range)
      return to > from ? clone(list[to - 1]!.row as Rows[typeof store]) : undefined
    },
  })

  const apply = (op: Op) => {
    const list = entries(op.store)
    if (op.kind === 'put') {
      const key = keyOf(op.store, op.row)
      const i = search(list, key, false)
      const hit = list[i]
      if (hit && compareKeys(hit.key, key) === 0) hit.row = op.row
      else list.splice(i, 0, { key, row: op.row })
    } else {
      const range = op.kind === 'delete' ? { lower: op.key, upper: op.key } : op.range
      const [from, to] = bounds(list, range)
      if (to > from) list.splice(from, to - from)
    }
  }

  return {
    kind: 'memory',
    database,
    read(_stores, body) {
      // Reads queue with writes, so a read spanning several awaits sees one consistent state
      // (IndexedDB gives the same: a write waits for overlapping reads and the other way round).
      const run = async () => {
        check()
        return body(reader(check))
      }
      const done = writeQueue.then(run, run)
      writeQueue = done.catch(() => undefined)
      return done
    },
    write(_stores, body) {
      const run = async () => {
        check()
        const ops: Op[] = []
        const guard = () => {
          check()
          if (ops.length > 0) {
            throw new Error('LogStorage contract: a write transaction read after it wrote.')
          }
        }
        const tx: WriteTx = {
          ...reader(guard),
          put: (store, row) => void ops.push({ kind: 'put', store, row: clone(row) }),
          delete: (store, key) => void ops.push({ kind: 'delete', store, key }),
          deleteRange: (store, range) => void ops.push({ kind: 'deleteRange', store, range }),
        }
        const result = await body(tx)
        check()
        for (const op of ops) apply(op)
        return result
      }
      // One write at a time, like IndexedDB's overlapping readwrite transactions.
      const done = writeQueue.then(run, run).catch((error: unknown) => {
        throw storageError(error)
      })
      writeQueue = done.catch(() => undefined)
      return done
    },
    async close() {
      closed = true
    },
  }
}
