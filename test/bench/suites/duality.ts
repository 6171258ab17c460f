/**
 * duality through its public API (the 'duality' and 'duality/idb' entry points), on IndexedDB.
 * Batch size = messages per producer.send call. Batch-1 sends are measured fired in windows of
 * concurrent sends (what an app firing many sends does; group commit may merge them) and awaited
 * one by one (the worst case: one transaction per send).
 */
import { openLog } from '../../../src/index.ts'
import { idbStorage } from '../../../src/storage/idb/index.ts'
import type { Row, SuiteOptions } from '../protocol.ts'
import {
  type BenchEvent,
  type Item,
  check,
  concurrently,
  expectedSum,
  makeItems,
  row,
  runWorkloads,
  timedLoop,
  withFreshDatabase,
} from '../workload.ts'

const PEER = 'duality'
const TOPIC = 'events'
type Log = Awaited<ReturnType<typeof openLog>>

async function open(name: string): Promise<Log> {
  return openLog({ storage: await idbStorage({ name }) })
}

async function create(name: string): Promise<Log> {
  const log = await open(name)
  await log.admin().createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }] })
  return log
}

const message = ({ key, value, timestamp }: Item) => ({ key, value, timestamp })

/**
 * Workload 'send@<batch>': its events at `batch` messages per awaited send, on a fresh log; scans
 * it if asked.
 */
async function sendBatches(name: string, batch: 100 | 1000, o: SuiteOptions, withScan: boolean) {
  const { events, budgetMs } = o.workloads[`send@${batch}`]
  return withFreshDatabase(name, async () => {
    let log = await create(name)
    const producer = log.producer()
    const items = makeItems(events)
    const w = await timedLoop(items.length, batch, budgetMs, (from, count) =>
      producer.send({ topic: TOPIC, messages: items.slice(from, from + count).map(message) }),
    ).finally(() => log.close())
    const rows = [row(`duality.send@${batch}`, PEER, `send, batch ${batch}`, w)]
    if (!withScan) return rows

    log = await open(name) // a cold log, as after a page load
    try {
      const s = await scan(log, o.scanChunk)
      check('duality scan count', s.events, w.events)
      check('duality scan sum', s.sum, expectedSum(w.events))
      const note = `maxRecords ${o.scanChunk}, ${s.fetches} fetches`
      rows.push(row('duality.scan', PEER, 'scan, fetch() in chunks', s, note))
    } finally {
      await log.close()
    }
    // Diagnostic: the same scan through read(), which skips the serde (values stay JSON text),
    // to tell storage cost from deserialisation cost.
    log = await open(name)
    try {
      const s = await scan(log, o.scanChunk, 'read')
      check('duality read() count', s.events, w.events)
      const note = 'diagnostic: no deserialisation'
      rows.push(row('duality.scan-raw', PEER, 'scan, read() in chunks', s, note))
    } finally {
      await log.close()
    }
    return rows
  })
}

/**
 * Reads partition 0 from offset 0 to the high watermark. With fetch() it touches every deserialised
 * value (a sum the caller checks); with read() it only counts the stored records.
 */
async function scan(log: Log, chunk: number, api: 'fetch' | 'read' = 'fetch') {
  const start = performance.now()
  let events = 0
  let sum = 0
  let fetches = 0
  let offset = 0
  for (;;) {
    const options = { topic: TOPIC, partition: 0, offset, maxRecords: chunk }
    const r = api === 'fetch' ? await log.fetch(options) : await log.read(options)
    fetches++
    if (api === 'fetch') for (const record of r.records) sum += (record.value as BenchEvent).amount
    events += r.records.length
    if (r.records.length === 0 || r.nextOffset >= r.highWatermark) break
    offset = r.nextOffset
  }
  return { events, sum, fetches, ms: performance.now() - start }
}

async function sendSingles(name: string, o: SuiteOptions, concurrent: boolean): Promise<Row> {
  const { events, budgetMs } = o.workloads[concurrent ? 'send@1-concurrent' : 'send@1']
  return withFreshDatabase(name, async () => {
    const log = await create(name)
    try {
      const producer = log.producer()
      const send = (item: Item) => producer.send({ topic: TOPIC, messages: [message(item)] })
      const items = makeItems(events)
      const t = concurrent
        ? await timedLoop(items.length, o.window, budgetMs, (from, count) =>
            concurrently(items, from, count, send),
          )
        : await timedLoop(items.length, 1, budgetMs, (from) => send(items[from]!))
      return concurrent
        ? row('duality.send@1-concurrent', PEER, `send, batch 1, ${o.window} concurrent`, t)
        : row('duality.send@1', PEER, 'send, batch 1, sequential', t)
    } finally {
      await log.close()
    }
  })
}

export async function run(o: SuiteOptions, progress: (message: string) => void): Promise<Row[]> {
  const name = 'bench-duality'
  return runWorkloads(o, progress, [
    ['send batch 1, sequential', async (o) => [await sendSingles(name, o, false)]],
    ['send batch 1, concurrent', async (o) => [await sendSingles(name, o, true)]],
    ['send batch 100', (o) => sendBatches(name, 100, o, false)],
    ['send batch 1000 + scan', (o) => sendBatches(name, 1000, o, true)],
  ])
}
