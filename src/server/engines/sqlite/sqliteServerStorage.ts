import type BetterSqlite3 from 'better-sqlite3'
import { createRequire } from 'node:module'
import { MissingPeerError } from '../../missingPeer.ts'
import { closeSync, fdatasync, openSync } from 'node:fs'
import { decodeBatch, encodeBatch } from './recordBatchCodec.ts'
import type { StoredRecord, StreamRow } from '../../engine/streamRows.ts'
import { TransactionAborted, type ServerStorage } from '../embedded/ServerStorage.ts'

export interface SqliteServerStorageOptions {
  /** The database file; ':memory:' for a throwaway one. */
  filename: string
  /**
   * 'FULL' (the default): an append is acknowledged only once the WAL holding it is fsynced, so it
   * survives a power cut. 'NORMAL' survives a process crash but not a power cut (SQLite's pragma).
   */
  synchronous?: 'FULL' | 'NORMAL'
  /**
   * The largest the database file may grow (rounded down to whole pages); writes past it are
   * refused, all or nothing, and the server answers 507. Default: no limit but the disk's.
   */
  maxBytes?: number
}

const schema = `
CREATE TABLE IF NOT EXISTS streams (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  path TEXT NOT NULL UNIQUE,
  meta TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
  id INTEGER PRIMARY KEY,
  stream_id INTEGER NOT NULL,
  base_offset INTEGER NOT NULL,
  last_offset INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS batches_by_offset ON batches (stream_id, base_offset);
CREATE TABLE IF NOT EXISTS producers (
  stream_id INTEGER NOT NULL,
  producer_id TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (stream_id, producer_id)
) WITHOUT ROWID;
`

interface StreamDbRow {
  id: number
  path: string
  meta: string
}

interface BatchDbRow {
  id: number
  data: Uint8Array
}

const toRow = (r: StreamDbRow): StreamRow => ({
  ...(JSON.parse(r.meta) as Omit<StreamRow, 'id' | 'path'>),
  id: r.id,
  path: r.path,
})

const metaOf = ({ id: _id, path: _path, ...meta }: Omit<StreamRow, 'id'> & { id?: number }) =>
  JSON.stringify(meta)

/**
 * The embedded default: one SQLite file in WAL mode through better-sqlite3, an append's records in
 * one row (recordBatchCodec.ts). A transaction is one SQLite transaction, so records, the
 * stream's tail and producer state commit together.
 *
 * Durability: SQLite's synchronous=FULL fsyncs the WAL inside every commit, which blocks the
 * event loop for the whole flush (~0.4 ms here, a third of the server's time under load). Instead
 * the database runs at synchronous=NORMAL (crash-consistent: the WAL is synced before every
 * checkpoint) and `flush` fdatasyncs the WAL off the main thread, what FULL's extra sync does,
 * so the server keeps parsing and committing the next appends meanwhile. The engine
 * acknowledges a commit, and shows it to readers, only after a flush that began after it.
 */
export function sqliteServerStorage(options: SqliteServerStorageOptions): ServerStorage {
  const db = new (loadBetterSqlite3())(options.filename)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  if (options.maxBytes !== undefined) {
    const pageSize = db.pragma('page_size', { simple: true }) as number
    db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxBytes / pageSize))}`)
  }
  db.exec(schema)
  const durable = (options.synchronous ?? 'FULL') === 'FULL' && !db.memory
  const flusher = durable ? walFlusher(`${db.name}-wal`) : undefined

  const q = {
    get: db.prepare<[string], StreamDbRow>('SELECT id, path, meta FROM streams WHERE path = ?'),
    getById: db.prepare<[number], StreamDbRow>('SELECT id, path, meta FROM streams WHERE id = ?'),
    list: db.prepare<[string, string], StreamDbRow>(
      'SELECT id, path, meta FROM streams WHERE path >= ? AND path < ? ORDER BY path',
    ),
    insert: db.prepare<[string, string]>('INSERT INTO streams (path, meta) VALUES (?, ?)'),
    update: db.prepare<[string, number]>('UPDATE streams SET meta = ? WHERE id = ?'),
    deleteStream: db.prepare<[number]>('DELETE FROM streams WHERE id = ?'),
    deleteAllRecords: db.prepare<[number]>('DELETE FROM batches WHERE stream_id = ?'),
    deleteProducers: db.prepare<[number]>('DELETE FROM producers WHERE stream_id = ?'),
    append: db.prepare<[number, number, number, Uint8Array]>(
      'INSERT INTO batches (stream_id, base_offset, last_offset, data) VALUES (?, ?, ?, ?)',
    ),
    // From the batch holding `from` (the last one starting at or before it) up to `to`.
    read: db.prepare<[{ stream: number; from: number; to: number }], BatchDbRow>(
      `SELECT id, data FROM batches WHERE stream_id = @stream AND base_offset < @to AND base_offset >=
         IFNULL((SELECT MAX(base_offset) FROM batches WHERE stream_id = @stream AND base_offset <= @from), 0)
       ORDER BY base_offset`,
    ),
    deleteBelow: db.prepare<[number, number]>(
      'DELETE FROM batches WHERE stream_id = ? AND last_offset < ?',
    ),
    straddling: db.prepare<[number, number], BatchDbRow>(
      'SELECT id, data FROM batches WHERE stream_id = ? AND base_offset < ?',
    ),
    holding: db.prepare<[number, number], BatchDbRow & { last_offset: number }>(
      'SELECT id, data, last_offset FROM batches WHERE stream_id = ? AND base_offset <= ? ORDER BY base_offset DESC LIMIT 1',
    ),
    rewrite: db.prepare<[number, number, Uint8Array, number]>(
      'UPDATE batches SET base_offset = ?, last_offset = ?, data = ? WHERE id = ?',
    ),
    deleteBatch: db.prepare<[number]>('DELETE FROM batches WHERE id = ?'),
    getProducer: db.prepare<
      [number, string],
      { epoch: number; last_seq: number; updated_at: number }
    >('SELECT epoch, last_seq, updated_at FROM producers WHERE stream_id = ? AND producer_id = ?'),
    putProducer: db.prepare<[number, string, number, number, number]>(
      'INSERT OR REPLACE INTO producers (stream_id, producer_id, epoch, last_seq, updated_at) VALUES (?, ?, ?, ?, ?)',
    ),
  }

  /** Keeps the records of a batch row that pass `keep`; drops the row when none do. */
  const rewrite = (batch: BatchDbRow, keep: (r: StoredRecord) => boolean): void => {
    const kept = decodeBatch(batch.data).filter(keep)
    if (kept.length === 0) q.deleteBatch.run(batch.id)
    else q.rewrite.run(kept[0]!.offset, kept[kept.length - 1]!.offset, encodeBatch(kept), batch.id)
  }

  // One transaction function for every call (building one per call cost ~7% of an append): called
  // inside another, better-sqlite3 runs it as a savepoint, which TurnCommit relies on.
  const inTransaction = db.transaction((fn: () => unknown) => fn())

  return {
    transaction<T>(fn: () => T): T {
      const nested = db.inTransaction
      try {
        return inTransaction(fn) as T
      } catch (error) {
        if (nested && !db.inTransaction && !(error instanceof TransactionAborted)) {
          throw new TransactionAborted(error)
        }
        throw error
      }
    },
    ...(flusher && { flush: flusher.flush }),
    getStream(path) {
      const row = q.get.get(path)
      return row && toRow(row)
    },
    getStreamById(id) {
      const row = q.getById.get(id)
      return row && toRow(row)
    },
    // '\u{10FFFF}' sorts after every path that starts with the prefix.
    listStreams: (prefix = '') => q.list.all(prefix, `${prefix}\u{10FFFF}`).map(toRow),
    insertStream(row) {
      const { lastInsertRowid } = q.insert.run(row.path, metaOf(row))
      return { ...row, id: Number(lastInsertRowid) }
    },
    updateStream(row) {
      q.update.run(metaOf(row), row.id)
    },
    deleteStream(id) {
      q.deleteAllRecords.run(id)
      q.deleteProducers.run(id)
      q.deleteStream.run(id)
    },
    appendRecords(streamId, records) {
      const first = records[0]
      if (!first) return
      q.append.run(
        streamId,
        first.offset,
        records[records.length - 1]!.offset,
        encodeBatch(records),
      )
    },
    readRecords(streamId, from, to, maxBytes) {
      const out: StoredRecord[] = []
      let bytes = 0
      for (const batch of q.read.iterate({ stream: streamId, from, to })) {
        for (const record of decodeBatch(batch.data)) {
          if (record.offset < from) continue
          if (record.offset >= to || bytes >= maxBytes) return out
          out.push(record)
          bytes += record.data.length
        }
      }
      return out
    },
    deleteRecordsBelow(streamId, below) {
      q.deleteBelow.run(streamId, below)
      for (const batch of q.straddling.all(streamId, below)) {
        rewrite(batch, (r) => r.offset >= below)
      }
    },
    deleteRecords(streamId, offsets) {
      const sorted = [...offsets].sort((a, b) => a - b)
      for (let i = 0; i < sorted.length;) {
        const batch = q.holding.get(streamId, sorted[i]!)
        if (!batch || sorted[i]! > batch.last_offset) {
          i++
          continue
        }
        const gone = new Set<number>()
        while (i < sorted.length && sorted[i]! <= batch.last_offset) gone.add(sorted[i++]!)
        rewrite(batch, (r) => !gone.has(r.offset))
      }
    },
    getProducer(streamId, producerId) {
      const r = q.getProducer.get(streamId, producerId)
      return r && { epoch: r.epoch, lastSeq: r.last_seq, updatedAt: r.updated_at }
    },
    putProducer(streamId, producerId, s) {
      q.putProducer.run(streamId, producerId, s.epoch, s.lastSeq, s.updatedAt)
    },
    close() {
      flusher?.close()
      if (db.open) db.close()
    },
  }
}

/**
 * fdatasync of the WAL file on libuv's thread pool, coalesced: a flush asked for while one runs
 * waits for the next one (the running one may have started before the caller's commit), and
 * everyone who asked meanwhile shares it.
 */
function walFlusher(walPath: string): { flush: () => Promise<void>; close: () => void } {
  let fd: number | undefined
  let running: Promise<void> | undefined
  let queued: Promise<void> | undefined
  const sync = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      fd ??= openSync(walPath, 'r')
      fdatasync(fd, (error) => (error ? reject(error) : resolve()))
    })
  const flush = (): Promise<void> => {
    if (!running) {
      running = sync().finally(() => (running = undefined))
      return running
    }
    const next = () => {
      queued = undefined
      return flush()
    }
    queued ??= running.then(next, next)
    return queued
  }
  return {
    flush,
    close() {
      if (fd !== undefined) closeSync(fd)
      fd = undefined
    },
  }
}

/**
 * better-sqlite3 is an optional peer (a native module): loaded when a SQLite storage is made, so
 * that importing duality/server/sqlite without it says which package to install.
 */
function loadBetterSqlite3(): typeof BetterSqlite3 {
  try {
    return createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3
  } catch (error) {
    if ((error as { code?: unknown }).code === 'MODULE_NOT_FOUND') {
      throw new MissingPeerError(['better-sqlite3'], 'sqliteServerStorage (duality/server/sqlite)')
    }
    throw error
  }
}
