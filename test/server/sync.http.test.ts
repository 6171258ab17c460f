import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest'
import {
  httpTransport,
  KafkaStreams,
  MemoryDatabase,
  StreamsBuilder,
  memoryStorage,
  openLog,
  Sync,
  type Log,
  type SyncTransport,
} from '../../src/index.ts'
import { until } from '../support/until.ts'
import { startNatsServer, type NatsServer } from './support/natsServer.ts'
import { startJetStreamTestServer, startTestServer, type TestServer } from './support/testServer.ts'

// Sync against duality's server over real HTTP: clients are Node logs on memory storage, the
// network is a fetch that can be switched off or lose responses after the server committed.

const PAYMENTS = { topic: 'payments', numPartitions: 2 }
const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 })
let nats: NatsServer | undefined
beforeAll(async () => {
  nats = await startNatsServer()
})
afterAll(() => nats?.stop())

// The same scenarios against each server backend: the embedded SQLite one and JetStream.
const backends: { name: string; start: () => Promise<TestServer> }[] = [
  { name: 'sqlite', start: () => startTestServer() },
  { name: 'jetstream', start: () => startJetStreamTestServer(nats!.url) },
]

async function serverOn(start: () => Promise<TestServer>): Promise<TestServer> {
  const s = await start()
  closers.push(() => s.stop())
  const res = await fetch(`${s.url}/admin/topics/payments`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ numPartitions: 2 }),
  })
  expect(res.status).toBe(201)
  return s
}

function network(url: string) {
  const net = { online: true, loseResponses: 0, posts: 0 }
  const transport = httpTransport({
    url,
    fetch: async (input, init) => {
      if (!net.online) throw new TypeError('fetch failed (offline, test)')
      const response = await fetch(input, init)
      if (init?.method === 'POST') {
        net.posts++
        if (net.loseResponses > 0) {
          net.loseResponses--
          await response.body?.cancel()
          throw new TypeError('connection reset after the server answered (test)')
        }
      }
      return response
    },
  })
  return { net, transport }
}

async function client(transport: SyncTransport, database = new MemoryDatabase()) {
  const log = await openLog({ storage: memoryStorage({ database }), cleaner: false })
  const sync = new Sync(log, { transport, topics: [PAYMENTS], maxBatch: 100 })
  await sync.start()
  closers.push(async () => {
    await sync.stop()
    await log.close()
  })
  return { log, sync, database }
}

/** A partition's records as the server has them, read over HTTP. */
async function onServer(transport: SyncTransport) {
  const out: string[] = []
  for (const partition of [0, 1]) {
    const { records } = await transport.read('payments', partition, 'start', { live: false })
    for (const r of records) out.push(`${partition}@${r.offset}:${r.key}=${r.value}`)
  }
  return out
}

async function local(log: Log) {
  const out: string[] = []
  for (const partition of [0, 1]) {
    const { records } = await log.read({ topic: 'payments', partition, offset: 0 })
    for (const r of records) out.push(`${partition}@${r.offset}:${r.key}=${String(r.value)}`)
  }
  return out
}

const settled = (sync: Sync) => async () => {
  const { topics } = await sync.status()
  return topics.payments!.pending === 0 && topics.payments!.upToDate
}

describe.each(backends)('sync over HTTP with $name', ({ start }) => {
  const server = () => serverOn(start)

  test('two clients offline, then online: both converge on the server order over HTTP', async () => {
    const s = await server()
    const a = network(s.url)
    const b = network(s.url)
    a.net.online = false
    b.net.online = false
    const ca = await client(a.transport)
    const cb = await client(b.transport)
    for (let i = 0; i < 25; i++) {
      await ca.sync.producer().send({ topic: 'payments', messages: [{ key: `a${i}`, value: i }] })
      await cb.sync.producer().send({ topic: 'payments', messages: [{ key: `b${i}`, value: -i }] })
    }
    a.net.online = true
    b.net.online = true
    await until(settled(ca.sync), 15_000)
    await until(settled(cb.sync), 15_000)
    const truth = await onServer(a.transport)
    expect(truth).toHaveLength(50)
    await until(
      async () => (await local(ca.log)).length === 50 && (await local(cb.log)).length === 50,
    )
    expect(await local(ca.log)).toEqual(truth)
    expect(await local(cb.log)).toEqual(truth)
    // Identical views too: the same topology over each replica folds to the same state.
    const views = await Promise.all(
      [ca.log, cb.log].map(async (log) => {
        const builder = new StreamsBuilder()
        builder
          .stream<string, number>('payments')
          .groupBy((key) => key[0]!)
          .reduce((x, y) => x + y, { materialized: 'sums' })
        const streams = new KafkaStreams(builder.build(), log, { applicationId: 'v', pollMs: 10 })
        await streams.start()
        closers.push(() => streams.close())
        await until(async () => {
          const [c] = await log.admin().fetchOffsets({ groupId: 'v', topics: ['payments'] })
          const highs = await log.offsets('payments')
          return c!.partitions.every((p) => p.offset === highs[p.partition]!.high)
        })
        return streams.store<string, number>('sums').all()
      }),
    )
    expect(views[0]).toEqual([
      { key: 'a', value: 300 },
      { key: 'b', value: -300 },
    ])
    expect(views[1]).toEqual(views[0])
  })

  test('responses lost after the server committed: retries are duplicates, one copy lands', async () => {
    const s = await server()
    const { net, transport } = network(s.url)
    net.loseResponses = 3
    const c = await client(transport)
    await c.sync.producer().send({
      topic: 'payments',
      messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: i, partition: 1 })),
    })
    // Three answers lost, then the fourth attempt of the same batch gets through (a duplicate).
    await until(async () => net.posts >= 4 && (await settled(c.sync)()), 15_000)
    expect(net.loseResponses).toBe(0)
    const truth = await onServer(transport)
    expect(truth).toHaveLength(30)
    expect(new Set(truth.map((r) => r.split(':')[1])).size).toBe(30)
  })

  test('a reload with 1,000 pending records pushes each of them once', async () => {
    const s = await server()
    const { net, transport } = network(s.url)
    net.online = false
    const first = await client(transport)
    for (let i = 0; i < 1000; i += 250) {
      await first.sync.producer().send({
        topic: 'payments',
        messages: Array.from({ length: 250 }, (_, j) => ({ key: `k${i + j}`, value: i + j })),
      })
    }
    await first.sync.stop()
    net.online = true
    const again = await client(transport, first.database)
    await until(settled(again.sync), 20_000)
    const truth = await onServer(transport)
    expect(truth).toHaveLength(1000)
    expect(new Set(truth.map((r) => r.split(':')[1])).size).toBe(1000)
    expect(await local(again.log)).toEqual(truth)
  })

  test('a compacted topic bootstraps from its compacted state, with the server offsets and gaps', async () => {
    const s = await server()
    const created = await fetch(`${s.url}/admin/topics/fx-rates`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }),
    })
    expect(created.status).toBe(201)
    const rates = [
      ['EUR', 1.1],
      ['GBP', 0.9],
      ['EUR', 1.2],
      ['JPY', 150],
      ['GBP', 0.8],
    ] as const
    const posted = await fetch(`${s.url}/topics/fx-rates/0`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(rates.map(([key, value]) => ({ key, value }))),
    })
    expect(posted.ok).toBe(true)
    const cleaned = await fetch(`${s.url}/admin/topics/fx-rates/clean`, { method: 'POST' })
    expect(cleaned.ok).toBe(true)
    const { transport } = network(s.url)
    const log = await openLog({ storage: memoryStorage(), cleaner: false })
    const sync = new Sync(log, {
      transport,
      topics: [
        { topic: 'fx-rates', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      ],
    })
    await sync.start()
    closers.push(async () => {
      await sync.stop()
      await log.close()
    })
    await until(async () => (await sync.status()).topics['fx-rates']!.upToDate)
    const { records } = await log.read({ topic: 'fx-rates', partition: 0, offset: 0 })
    // The latest rate per currency, at the offsets the server gave them.
    expect(records.map((r) => `${r.offset}:${r.key}=${String(r.value)}`)).toEqual([
      '2:EUR=1.2',
      '3:JPY=150',
      '4:GBP=0.8',
    ])
    // New rates continue at the server's next offset.
    await fetch(`${s.url}/topics/fx-rates/0`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ key: 'EUR', value: 1.3 }]),
    })
    await until(async () => (await log.offsets('fx-rates'))[0]!.high === 6)
    const after = await log.read({ topic: 'fx-rates', partition: 0, offset: 5 })
    expect(after.records.map((r) => `${r.offset}:${r.key}=${String(r.value)}`)).toEqual([
      '5:EUR=1.3',
    ])
  })
})
