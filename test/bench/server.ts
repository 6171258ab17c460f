/**
 * `npm run bench:server`: append and catch-up throughput of the duality server (SQLite, durable:
 * synchronous=FULL; and memory) side by side with the Durable Streams reference server
 * (@durable-streams/server, in memory), all over real HTTP on loopback, in this process.
 * Prints a table (or `--json`); figures are reports, never assertions.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  JetStreamEngine,
  memoryServerStorage,
  serve,
  sqliteServerStorage,
} from '../../src/server/index.ts'
import { startNatsServer } from '../server/support/natsServer.ts'

const BATCH = 100
const SEQUENTIAL_BATCHES = 300
const PRODUCERS = 8
const CONCURRENT_BATCHES = 60 // per producer
const CATCH_UP_EVENTS = 200_000

interface Target {
  name: string
  start(): Promise<{ url: string; stop(): Promise<void> }>
}

const targets: Target[] = [
  {
    name: 'duality sqlite (FULL)',
    async start() {
      const dir = mkdtempSync(join(tmpdir(), 'duality-bench-'))
      const s = await serve({
        port: 0,
        storage: sqliteServerStorage({
          filename: join(dir, 'bench.db'),
          synchronous: process.env.SYNC === 'NORMAL' ? 'NORMAL' : 'FULL',
        }),
        cleanerIntervalMs: 0,
      })
      return {
        url: s.url,
        stop: async () => {
          await s.close()
          rmSync(dir, { recursive: true, force: true })
        },
      }
    },
  },
  {
    name: 'duality memory',
    async start() {
      const s = await serve({ port: 0, storage: memoryServerStorage(), cleanerIntervalMs: 0 })
      return { url: s.url, stop: () => s.close() }
    },
  },
]

// JetStream: its own nats-server -js (Debian's 2.9.10 here: no fsync before acknowledging, R1).
targets.push({
  name: 'duality jetstream (R1)',
  async start() {
    const nats = await startNatsServer()
    const s = await serve({
      port: 0,
      backend: await JetStreamEngine.connect({ servers: nats.url }),
      cleanerIntervalMs: 0,
    })
    return {
      url: s.url,
      stop: async () => {
        await s.close()
        await nats.stop()
      },
    }
  },
})

// The reference server is not a devDependency: it pulls in lmdb and msgpackr, whose per-platform
// optional packages this workplace's registry cannot lock, which breaks `npm ci`. Install it for
// a run with `npm install --no-save @durable-streams/server@0.3.7`.
const reference = '@durable-streams/server'
try {
  const { DurableStreamTestServer } = (await import(reference)) as {
    DurableStreamTestServer: new (options: { port: number; host: string }) => {
      start(): Promise<string>
      stop(): Promise<void>
    }
  }
  targets.push({
    name: 'reference (memory)',
    async start() {
      const s = new DurableStreamTestServer({ port: 0, host: '127.0.0.1' })
      const url = await s.start()
      return { url, stop: () => s.stop() }
    },
  })
} catch {
  process.stderr.write(
    `${reference} is not installed: npm install --no-save ${reference}@0.3.7 to compare with it\n`,
  )
}

const batchBody = (from: number): string =>
  JSON.stringify(
    Array.from({ length: BATCH }, (_, i) => ({ id: from + i, type: 'payment', amount: 3.5 })),
  )

async function create(url: string): Promise<void> {
  const res = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json' } })
  if (res.status !== 201) throw new Error(`create ${url}: ${res.status}`)
}

async function appendBatches(url: string, producer: string, batches: number): Promise<void> {
  for (let seq = 0; seq < batches; seq++) {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'producer-id': producer,
        'producer-epoch': '0',
        'producer-seq': String(seq),
      },
      body: batchBody(seq * BATCH),
    })
    if (res.status !== 200) throw new Error(`append ${url}: ${res.status} ${await res.text()}`)
  }
}

/** Reads the whole stream from the start, chunk by chunk, parsing every event. */
async function catchUp(url: string): Promise<number> {
  let offset = '-1'
  let events = 0
  for (;;) {
    const res = await fetch(`${url}?offset=${encodeURIComponent(offset)}`)
    events += ((await res.json()) as unknown[]).length
    offset = res.headers.get('stream-next-offset')!
    if (res.headers.get('stream-up-to-date') === 'true') return events
  }
}

const rate = (events: number, ms: number): number => Math.round((events / ms) * 1000)

async function measure(target: Target): Promise<Record<string, number | string>> {
  const server = await target.start()
  try {
    const base = `${server.url}/bench`
    await create(`${base}/seq`)
    let t = performance.now()
    await appendBatches(`${base}/seq`, 'p', SEQUENTIAL_BATCHES)
    const sequential = rate(SEQUENTIAL_BATCHES * BATCH, performance.now() - t)

    await create(`${base}/concurrent`)
    t = performance.now()
    await Promise.all(
      Array.from({ length: PRODUCERS }, (_, p) =>
        appendBatches(`${base}/concurrent`, `p${p}`, CONCURRENT_BATCHES),
      ),
    )
    const concurrent = rate(PRODUCERS * CONCURRENT_BATCHES * BATCH, performance.now() - t)

    await create(`${base}/catchup`)
    await Promise.all(
      Array.from({ length: PRODUCERS }, (_, p) =>
        appendBatches(`${base}/catchup`, `c${p}`, CATCH_UP_EVENTS / BATCH / PRODUCERS),
      ),
    )
    t = performance.now()
    const read = await catchUp(`${base}/catchup`)
    const catchUpRate = rate(read, performance.now() - t)
    if (read !== CATCH_UP_EVENTS) throw new Error(`${target.name}: read ${read} events`)
    return {
      server: target.name,
      'append seq (ev/s)': sequential,
      [`append ${PRODUCERS}x (ev/s)`]: concurrent,
      'catch-up (ev/s)': catchUpRate,
    }
  } finally {
    await server.stop()
  }
}

const rows = []
for (const target of targets) {
  process.stderr.write(`measuring ${target.name}...\n`)
  rows.push(await measure(target))
}
if (process.argv.includes('--json')) console.log(JSON.stringify(rows))
else console.table(rows)
process.exit(0)
