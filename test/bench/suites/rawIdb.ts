/**
 * Peers: raw IndexedDB without any library, in three layouts:
 * - 'row': one row per record (what Dexie, RxDB and idb-keyval do),
 * - 'packed': one row per batch of records (an array), the layout duality builds on,
 * - 'packed-500': the same in rows of at most 500 records (a diagnostic). Chromium stores a value
 *   of over 64 KiB (its structured clone) as a blob file beside the database. A row of 1,000 of
 *   these records is ~110 KB cloned, 500 are ~55 KB; duality packs a row up to 256 KiB of its own
 *   size count (Log's `maxRowBytes`; ~98 KB for 1,000 of these events, ~94 KB cloned), so its
 *   send of 1,000 is one row over 64 KiB, as in 'packed'. 'packed-500' shows what rows under
 *   ~64 KiB, the design's first guidance, cost or gain.
 * Keys are inline and auto-incremented ('seq'), so a scan can page with lowerBound(lastSeq).
 * Every write transaction is 'relaxed', the same durability duality uses by default.
 */
import type { Row, SuiteOptions } from '../protocol.ts'
import {
  check,
  concurrently,
  deleteDatabase,
  expectedSum,
  makeItems,
  row,
  runWorkloads,
  timedLoop,
  withFreshDatabase,
  type Item,
} from '../workload.ts'

const STORE = 'events'
type Layout = 'row' | 'packed' | 'packed-500'
/** Records per stored row. */
const perRow: Record<Layout, number> = { row: 1, packed: Infinity, 'packed-500': 500 }
interface PackedRow {
  seq?: number
  records: Item[]
}

const peers: Record<Layout, string> = {
  row: 'raw IndexedDB, one row per record',
  packed: 'raw IndexedDB, packed rows',
  'packed-500': 'raw IndexedDB, packed rows of <= 500',
}

function open(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, 1)
    req.onupgradeneeded = () =>
      req.result.createObjectStore(STORE, { keyPath: 'seq', autoIncrement: true })
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

/** One readwrite transaction putting `rows`, resolved when it commits. */
function putAll(db: IDBDatabase, rows: unknown[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, 'readwrite', { durability: 'relaxed' })
    const store = tx.objectStore(STORE)
    for (const r of rows) store.put(r)
    tx.oncomplete = () => resolve()
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'))
  })
}

function getAll<T>(db: IDBDatabase, range: IDBKeyRange | null, count: number): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const req = db.transaction(STORE, 'readonly').objectStore(STORE).getAll(range, count)
    req.onsuccess = () => resolve(req.result as T[])
    req.onerror = () => reject(req.error)
  })
}

/** Writes `total` records, `batch` per transaction, in the given layout. */
function write(db: IDBDatabase, layout: Layout, items: Item[], batch: number, budgetMs: number) {
  return timedLoop(items.length, batch, budgetMs, (from, count) => {
    const records = items.slice(from, from + count)
    if (layout === 'row') return putAll(db, records)
    const rows: PackedRow[] = []
    for (let i = 0; i < count; i += perRow[layout]) {
      rows.push({ records: records.slice(i, i + perRow[layout]) })
    }
    return putAll(db, rows)
  })
}

/**
 * Reads the whole store in chunks of about `chunk` records, one readonly transaction each.
 * `recordsPerRow` is what the rows were written with.
 */
async function scan(db: IDBDatabase, layout: Layout, chunk: number, recordsPerRow: number) {
  const rowsPerRead = Math.max(1, Math.round(chunk / recordsPerRow))
  const start = performance.now()
  let events = 0
  let sum = 0
  let after: number | undefined
  for (;;) {
    const range = after === undefined ? null : IDBKeyRange.lowerBound(after, true)
    if (layout === 'row') {
      const rows = await getAll<Item & { seq: number }>(db, range, rowsPerRead)
      if (rows.length === 0) break
      for (const r of rows) sum += r.value.amount
      events += rows.length
      after = rows[rows.length - 1]!.seq
    } else {
      const rows = await getAll<Required<PackedRow>>(db, range, rowsPerRead)
      if (rows.length === 0) break
      for (const r of rows) for (const item of r.records) sum += item.value.amount
      for (const r of rows) events += r.records.length
      after = rows[rows.length - 1]!.seq
    }
  }
  return { events, sum, ms: performance.now() - start }
}

/** Batch-1 writes: one transaction per record, awaited one by one or fired in windows. */
async function writeSingles(name: string, o: SuiteOptions, concurrent: boolean): Promise<Row> {
  const { events, budgetMs } = o.workloads[concurrent ? 'send@1-concurrent' : 'send@1']
  return withFreshDatabase(name, async () => {
    const db = await open(name)
    try {
      const items = makeItems(events)
      const t = concurrent
        ? await timedLoop(items.length, o.window, budgetMs, (from, count) =>
            concurrently(items, from, count, (item) => putAll(db, [item])),
          )
        : await write(db, 'row', items, 1, budgetMs)
      return concurrent
        ? row('raw-row.send@1-concurrent', peers.row, `send, batch 1, ${o.window} concurrent`, t)
        : row('raw-row.send@1', peers.row, 'send, batch 1, sequential', t)
    } finally {
      db.close()
    }
  })
}

/**
 * Writes the workload's events at `batch` per transaction (workload 'send@<batch>'), then reopens
 * the database and scans it if asked.
 */
async function writeThenScan(
  name: string,
  layout: Layout,
  batch: 100 | 1000,
  o: SuiteOptions,
  withScan: boolean,
) {
  const { events, budgetMs } = o.workloads[`send@${batch}`]
  return withFreshDatabase(name, async () => {
    const id = `raw-${layout}`
    let db = await open(name)
    const w = await write(db, layout, makeItems(events), batch, budgetMs).finally(() => db.close())
    const rows = [row(`${id}.send@${batch}`, peers[layout], `send, batch ${batch}`, w)]
    if (!withScan) return rows
    db = await open(name) // a cold connection, as after a page load
    try {
      const s = await scan(db, layout, o.scanChunk, Math.min(batch, perRow[layout]))
      check(`${id} scan count`, s.events, w.events)
      check(`${id} scan sum`, s.sum, expectedSum(w.events))
      rows.push(
        row(
          `${id}.scan`,
          peers[layout],
          'scan, getAll in chunks',
          s,
          `~${o.scanChunk} records a read`,
        ),
      )
      return rows
    } finally {
      db.close()
    }
  })
}

export async function run(o: SuiteOptions, progress: (message: string) => void): Promise<Row[]> {
  const name = 'bench-raw-idb'
  const rows = await runWorkloads(o, progress, [
    ['one row per record: batch 1, sequential', async (o) => [await writeSingles(name, o, false)]],
    ['one row per record: batch 1, concurrent', async (o) => [await writeSingles(name, o, true)]],
    ['one row per record: batch 1000 + scan', (o) => writeThenScan(name, 'row', 1000, o, true)],
    ['packed rows: batch 100', (o) => writeThenScan(name, 'packed', 100, o, false)],
    ['packed rows: batch 1000 + scan', (o) => writeThenScan(name, 'packed', 1000, o, true)],
    [
      'packed rows of <= 500: batch 1000 + scan',
      (o) => writeThenScan(name, 'packed-500', 1000, o, true),
    ],
  ])
  await deleteDatabase(name)
  return rows
}
