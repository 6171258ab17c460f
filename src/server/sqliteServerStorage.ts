import Database from 'better-sqlite3'
import type { ServerStorage, StoredRecord, StreamRow } from './ServerStorage.ts'

export interface SqliteServerStorageOptions {
  /** The database file; ':memory:' for a throwaway one. */
  filename: string
  /**
   * SQLite's `synchronous` pragma. 'FULL' (the default) fsyncs the WAL at every commit, so an
   * acknowledged append survives a power cut; 'NORMAL' survives a process crash but not a power cut.
   */
  synchronous?: 'FULL' | 'NORMAL'
}

const schema = `
CREATE TABLE IF NOT EXISTS streams (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  path TEXT NOT NULL UNIQUE,
  meta TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
  stream_id INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  data BLOB NOT NULL,
  batch_start INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  key TEXT,
  PRIMARY KEY (stream_id, offset)
) WITHOUT ROWID;
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

interface RecordDbRow {
  offset: number
  data: Uint8Array
  batch_start: number
  timestamp: number
  key: string | null
}

const toRow = (r: StreamDbRow): StreamRow => ({
  ...(JSON.parse(r.meta) as Omit<StreamRow, 'id' | 'path'>),
  id: r.id,
  path: r.path,
})

const metaOf = ({ id: _id, path: _path, ...meta }: Omit<StreamRow, 'id'> & { id?: number }) =>
  JSON.stringify(meta)

/**
 * The embedded default: one SQLite file in WAL mode through better-sqlite3. A transaction is one
 * SQLite transaction, so records, the stream's tail and producer state commit together, and
 * `transaction` returns only after the commit (fsynced with synchronous=FULL).
 */
export function sqliteServerStorage(options: SqliteServerStorageOptions): ServerStorage {
  const db = new Database(options.filename)
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`)
  db.exec(schema)

  const q = {
    get: db.prepare<[string], StreamDbRow>('SELECT id, path, meta FROM streams WHERE path = ?'),
    getById: db.prepare<[number], StreamDbRow>('SELECT id, path, meta FROM streams WHERE id = ?'),
    list: db.prepare<[string, string], StreamDbRow>(
      'SELECT id, path, meta FROM streams WHERE path >= ? AND path < ? ORDER BY path',
    ),
    insert: db.prepare<[string, string]>('INSERT INTO streams (path, meta) VALUES (?, ?)'),
    update: db.prepare<[string, number]>('UPDATE streams SET meta = ? WHERE id = ?'),
    deleteStream: db.prepare<[number]>('DELETE FROM streams WHERE id = ?'),
    deleteAllRecords: db.prepare<[number]>('DELETE FROM records WHERE stream_id = ?'),
    deleteProducers: db.prepare<[number]>('DELETE FROM producers WHERE stream_id = ?'),
    append: db.prepare<[number, number, Uint8Array, number, number, string | null]>(
      'INSERT INTO records (stream_id, offset, data, batch_start, timestamp, key) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    read: db.prepare<[number, number, number], RecordDbRow>(
      'SELECT offset, data, batch_start, timestamp, key FROM records WHERE stream_id = ? AND offset >= ? AND offset < ? ORDER BY offset',
    ),
    deleteBelow: db.prepare<[number, number]>(
      'DELETE FROM records WHERE stream_id = ? AND offset < ?',
    ),
    deleteOne: db.prepare<[number, number]>(
      'DELETE FROM records WHERE stream_id = ? AND offset = ?',
    ),
    getProducer: db.prepare<
      [number, string],
      { epoch: number; last_seq: number; updated_at: number }
    >('SELECT epoch, last_seq, updated_at FROM producers WHERE stream_id = ? AND producer_id = ?'),
    putProducer: db.prepare<[number, string, number, number, number]>(
      'INSERT OR REPLACE INTO producers (stream_id, producer_id, epoch, last_seq, updated_at) VALUES (?, ?, ?, ?, ?)',
    ),
  }

  return {
    transaction: <T>(fn: () => T): T => db.transaction(fn)(),
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
      for (const r of records) {
        q.append.run(streamId, r.offset, r.data, r.batchStart ? 1 : 0, r.timestamp, r.key)
      }
    },
    readRecords(streamId, from, to, maxBytes) {
      const out: StoredRecord[] = []
      let bytes = 0
      for (const r of q.read.iterate(streamId, from, to)) {
        out.push({
          offset: r.offset,
          data: r.data,
          batchStart: r.batch_start === 1,
          timestamp: r.timestamp,
          key: r.key,
        })
        bytes += r.data.length
        if (bytes >= maxBytes) break
      }
      return out
    },
    deleteRecordsBelow(streamId, below) {
      q.deleteBelow.run(streamId, below)
    },
    deleteRecords(streamId, offsets) {
      for (const offset of offsets) q.deleteOne.run(streamId, offset)
    },
    getProducer(streamId, producerId) {
      const r = q.getProducer.get(streamId, producerId)
      return r && { epoch: r.epoch, lastSeq: r.last_seq, updatedAt: r.updated_at }
    },
    putProducer(streamId, producerId, s) {
      q.putProducer.run(streamId, producerId, s.epoch, s.lastSeq, s.updatedAt)
    },
    close() {
      if (db.open) db.close()
    },
  }
}
