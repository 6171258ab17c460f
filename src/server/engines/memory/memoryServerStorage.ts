import type { NewStreamRow, ProducerState, StreamRow } from '../../engine/streamRows.ts'
import type { ServerStorage } from '../embedded/ServerStorage.ts'
import { RecordLog } from './RecordLog.ts'

const copy = (row: StreamRow): StreamRow => ({
  ...row,
  closedBy: row.closedBy && { ...row.closedBy },
})

/**
 * A ServerStorage in memory: for tests and for trying the server out. Nothing survives the process.
 * Transactions keep an undo log so a failed step leaves nothing half-written, as SQLite would.
 */
export function memoryServerStorage(): ServerStorage {
  const streams = new Map<string, StreamRow>()
  const byId = new Map<number, StreamRow>()
  const records = new Map<number, RecordLog>()
  const producers = new Map<number, Map<string, ProducerState>>()
  let nextId = 1
  let undo: (() => void)[] | null = null
  const onRollback = (fn: () => void): void => void undo?.push(fn)

  const setRow = (row: StreamRow): void => {
    const before = byId.get(row.id)
    streams.set(row.path, row)
    byId.set(row.id, row)
    onRollback(() => {
      if (before) {
        streams.set(before.path, before)
        byId.set(before.id, before)
      } else {
        streams.delete(row.path)
        byId.delete(row.id)
      }
    })
  }
  const setRecords = (id: number, next: RecordLog): void => {
    const before = records.get(id)
    records.set(id, next)
    onRollback(() => (before ? records.set(id, before) : records.delete(id)))
  }

  return {
    transaction<T>(fn: () => T): T {
      if (undo) {
        // Nested: a savepoint inside the outer transaction; a throw undoes only its own writes.
        const log = undo
        const mark = log.length
        try {
          return fn()
        } catch (error) {
          while (log.length > mark) log.pop()!()
          throw error
        }
      }
      undo = []
      try {
        const result = fn()
        undo = null
        return result
      } catch (error) {
        const log = undo as (() => void)[]
        undo = null
        for (let i = log.length - 1; i >= 0; i--) log[i]!()
        throw error
      }
    },
    getStream: (path) => {
      const row = streams.get(path)
      return row && copy(row)
    },
    getStreamById: (id) => {
      const row = byId.get(id)
      return row && copy(row)
    },
    listStreams: (prefix = '') =>
      [...streams.values()]
        .filter((r) => r.path.startsWith(prefix))
        .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
        .map(copy),
    insertStream(row: NewStreamRow): StreamRow {
      const stored = { ...row, id: nextId++ }
      setRow(stored)
      setRecords(stored.id, new RecordLog())
      return copy(stored)
    },
    updateStream(row) {
      setRow(copy(row))
    },
    deleteStream(id) {
      const row = byId.get(id)
      if (!row) return
      const rows = records.get(id)
      const owned = producers.get(id)
      streams.delete(row.path)
      byId.delete(id)
      records.delete(id)
      producers.delete(id)
      onRollback(() => {
        streams.set(row.path, row)
        byId.set(id, row)
        if (rows) records.set(id, rows)
        if (owned) producers.set(id, owned)
      })
    },
    appendRecords(streamId, added) {
      // In place (copying would make every append O(stream length)); a rollback truncates.
      let log = records.get(streamId)
      if (!log) {
        log = new RecordLog()
        setRecords(streamId, log)
      }
      const appendedTo = log
      const mark = appendedTo.mark
      appendedTo.append(added)
      onRollback(() => appendedTo.truncate(mark))
    },
    readRecords: (streamId, from, to, maxBytes) =>
      records.get(streamId)?.read(from, to, maxBytes) ?? [],
    deleteRecordsBelow(streamId, below) {
      const log = records.get(streamId)
      if (log)
        setRecords(
          streamId,
          log.filter((offset) => offset >= below),
        )
    },
    deleteRecords(streamId, offsets) {
      const gone = new Set(offsets)
      const log = records.get(streamId)
      if (log)
        setRecords(
          streamId,
          log.filter((offset) => !gone.has(offset)),
        )
    },
    getProducer: (streamId, producerId) => {
      const state = producers.get(streamId)?.get(producerId)
      return state && { ...state }
    },
    putProducer(streamId, producerId, state) {
      let owned = producers.get(streamId)
      if (!owned) {
        owned = new Map()
        producers.set(streamId, owned)
        onRollback(() => producers.delete(streamId))
      }
      const map = owned
      const before = map.get(producerId)
      map.set(producerId, { ...state })
      onRollback(() => (before ? map.set(producerId, before) : map.delete(producerId)))
    },
    close() {},
  }
}
