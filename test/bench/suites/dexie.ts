/**
 * Peer: Dexie 4, one row per record, an auto-incremented inline key ('++seq'). Transactions are
 * 'relaxed' (Dexie's chromeTransactionDurability), like the other peers; everything else is default.
 */
import { Dexie, type EntityTable } from 'dexie'
import type { Row, SuiteOptions } from '../protocol.ts'
import {
  check,
  concurrently,
  expectedSum,
  makeItems,
  row,
  runWorkloads,
  timedLoop,
  withFreshDatabase,
  type Item,
} from '../workload.ts'

const PEER = 'Dexie 4, bulkAdd'
type Stored = Item & { seq: number }
type Db = Dexie & { events: EntityTable<Stored, 'seq'> }

function open(name: string): Db {
  const db = new Dexie(name, { chromeTransactionDurability: 'relaxed' }) as Db
  db.version(1).stores({ events: '++seq' })
  return db
}

/** The idiomatic bounded read: page by primary key; Dexie turns it into getAll(range, limit). */
async function scanChunked(db: Db, chunk: number) {
  const start = performance.now()
  let events = 0
  let sum = 0
  let after = 0 // auto-increment keys start at 1
  for (;;) {
    const rows = await db.events.where(':id').above(after).limit(chunk).toArray()
    if (rows.length === 0) break
    for (const r of rows) sum += r.value.amount
    events += rows.length
    after = rows[rows.length - 1]!.seq
  }
  return { events, sum, ms: performance.now() - start }
}

async function scanAll(db: Db) {
  const start = performance.now()
  const rows = await db.events.toArray()
  let sum = 0
  for (const r of rows) sum += r.value.amount
  return { events: rows.length, sum, ms: performance.now() - start }
}

async function writeSingles(name: string, o: SuiteOptions, concurrent: boolean): Promise<Row> {
  const { events, budgetMs } = o.workloads[concurrent ? 'send@1-concurrent' : 'send@1']
  return withFreshDatabase(name, async () => {
    const db = open(name)
    try {
      await db.open()
      const items = makeItems(events) as Stored[]
      // Outside a transaction every add() is its own transaction.
      const t = concurrent
        ? await timedLoop(items.length, o.window, budgetMs, (from, count) =>
            concurrently(items, from, count, (item) => db.events.add(item)),
          )
        : await timedLoop(items.length, 1, budgetMs, (from) => db.events.add(items[from]!))
      return concurrent
        ? row('dexie.send@1-concurrent', PEER, `send, add(), ${o.window} concurrent`, t)
        : row('dexie.send@1', PEER, 'send, add(), sequential', t)
    } finally {
      db.close()
    }
  })
}

/** Workload 'send@1000' (bulkAdd of 1,000 a transaction), then two scans of a cold connection. */
async function writeThenScan(name: string, o: SuiteOptions): Promise<Row[]> {
  const { events, budgetMs } = o.workloads['send@1000']
  return withFreshDatabase(name, async () => {
    let db = open(name)
    await db.open()
    const items = makeItems(events) as Stored[]
    const w = await timedLoop(items.length, 1000, budgetMs, (from, count) =>
      db.events.bulkAdd(items.slice(from, from + count)),
    ).finally(() => db.close())
    const rows = [row('dexie.send@1000', PEER, 'send, bulkAdd 1000', w)]

    db = open(name) // a cold connection, as after a page load
    try {
      await db.open()
      const chunked = await scanChunked(db, o.scanChunk)
      const all = await scanAll(db)
      for (const [what, s] of [
        ['chunked', chunked],
        ['toArray', all],
      ] as const) {
        check(`dexie ${what} scan count`, s.events, w.events)
        check(`dexie ${what} scan sum`, s.sum, expectedSum(w.events))
      }
      rows.push(
        row(
          'dexie.scan',
          PEER,
          "scan, where(':id').above(k).limit(n)",
          chunked,
          `n = ${o.scanChunk}`,
        ),
        row('dexie.scan-all', PEER, 'scan, table.toArray() at once', all),
      )
      return rows
    } finally {
      db.close()
    }
  })
}

export async function run(o: SuiteOptions, progress: (message: string) => void): Promise<Row[]> {
  const name = 'bench-dexie'
  return runWorkloads(o, progress, [
    ['add() batch 1, sequential', async (o) => [await writeSingles(name, o, false)]],
    ['add() batch 1, concurrent', async (o) => [await writeSingles(name, o, true)]],
    ['bulkAdd 1000 + scan', (o) => writeThenScan(name, o)],
  ])
}
