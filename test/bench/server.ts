/**
 * `npm run bench:server`: append and catch-up throughput of the duality server (SQLite, durable:
 * synchronous=FULL; and memory) side by side with the Durable Streams reference server
 * (@durable-streams/server, in memory), all over real HTTP on loopback. The server under test runs
 * on this process's main thread; the load (serverLoad.mjs) runs in a worker thread, the same
 * client for every server.
 * Prints a table (or `--json`); figures are reports, never assertions.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { JetStreamEngine } from '../../src/server/engines/jetstream/index.ts'
import { memoryServerStorage } from '../../src/server/index.ts'
import { serve } from '../../src/server/node/index.ts'
import { sqliteServerStorage } from '../../src/server/engines/sqlite/index.ts'
import { startNatsServer } from '../server/support/natsServer.ts'

const BATCH = 100
const SEQUENTIAL_BATCHES = 1_000
const PRODUCERS = 8
const CONCURRENT_BATCHES = 125 // per producer
const CATCH_UP_EVENTS = 200_000
const ROUNDS = 3

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
      engine: await JetStreamEngine.connect({ servers: nats.url }),
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

interface Figures {
  sequential: number
  concurrent: number
  catchUp: number
  runs: Record<'sequential' | 'concurrent' | 'catchUp', number[]>
}

/** Runs the load (serverLoad.mjs) against a started server, in a worker thread. */
function load(url: string): Promise<Figures> {
  const worker = new Worker(new URL('./serverLoad.mjs', import.meta.url), {
    workerData: {
      url,
      batch: BATCH,
      sequentialBatches: SEQUENTIAL_BATCHES,
      producers: PRODUCERS,
      concurrentBatches: CONCURRENT_BATCHES,
      catchUpEvents: CATCH_UP_EVENTS,
      rounds: ROUNDS,
    },
  })
  return new Promise((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`the load worker exited with ${code}`)))
  })
}

async function measure(target: Target): Promise<{ name: string; figures: Figures }> {
  const server = await target.start()
  try {
    const figures = await load(server.url)
    process.stderr.write(`  runs: ${JSON.stringify(figures.runs)}\n`)
    return { name: target.name, figures }
  } finally {
    await server.stop()
  }
}

// `--only sqlite,reference` measures the servers whose names contain one of the words.
const onlyAt = process.argv.indexOf('--only')
const only = onlyAt >= 0 ? (process.argv[onlyAt + 1] ?? '').split(',') : undefined
const selected = only ? targets.filter((t) => only.some((word) => t.name.includes(word))) : targets

const results = []
for (const target of selected) {
  process.stderr.write(`measuring ${target.name}...\n`)
  results.push(await measure(target))
}
const rows = results.map(({ name, figures }) => ({
  server: name,
  'append seq (ev/s)': figures.sequential,
  [`append ${PRODUCERS}x (ev/s)`]: figures.concurrent,
  'catch-up (ev/s)': figures.catchUp,
}))
if (process.argv.includes('--json')) console.log(JSON.stringify(results))
else {
  console.table(rows)
  // The targets: durable SQLite appends >= 2x the reference in memory; catch-up >= 1M/s.
  const sqlite = results.find((r) => r.name.includes('sqlite'))?.figures
  const ref = results.find((r) => r.name.startsWith('reference'))?.figures
  const ratio = (a: number, b: number): string => (a / b).toFixed(2)
  if (sqlite && ref) {
    console.log(
      `sqlite / reference, append seq: ${ratio(sqlite.sequential, ref.sequential)} (target >= 2)`,
    )
    console.log(
      `sqlite / reference, append ${PRODUCERS}x: ${ratio(sqlite.concurrent, ref.concurrent)} (target >= 2)`,
    )
    console.log(`sqlite / reference, catch-up: ${ratio(sqlite.catchUp, ref.catchUp)}`)
  }
  if (sqlite) console.log(`sqlite catch-up: ${sqlite.catchUp} ev/s (target >= 1,000,000)`)
}
process.exit(0)
