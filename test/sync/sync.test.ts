import { expect, test } from 'vitest'
import {
  MemoryDatabase,
  memoryStorage,
  memoryTransport,
  NetworkError,
  openLog,
  outboxTopic,
  Sync,
  type Log,
  type SyncEvent,
  type SyncTransport,
} from '../../src/index.ts'

const PAYMENTS = { topic: 'payments', numPartitions: 2 }

async function server(): Promise<Log> {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  await log.admin().createTopics({ topics: [PAYMENTS] })
  return log
}

/** A transport with a switch: offline, every call fails as a network failure would. */
function flaky(inner: SyncTransport) {
  const state = { online: true, lostResponses: 0 }
  const gate = () => {
    if (!state.online) throw new NetworkError('offline (test)')
  }
  const transport: SyncTransport = {
    async describeTopic(topic, signal) {
      gate()
      return inner.describeTopic(topic, signal)
    },
    async read(topic, partition, offset, options) {
      gate()
      return inner.read(topic, partition, offset, options)
    },
    async append(topic, partition, records, producer, signal) {
      gate()
      const result = await inner.append(topic, partition, records, producer, signal)
      // The server committed, but the response never arrives.
      if (state.lostResponses > 0) {
        state.lostResponses--
        throw new NetworkError('connection reset after the server committed (test)')
      }
      return result
    },
  }
  return { transport, state }
}

async function client(transport: SyncTransport, database = new MemoryDatabase()) {
  const log = await openLog({ storage: memoryStorage({ database }), cleaner: false })
  const sync = new Sync(log, { transport, topics: [PAYMENTS], maxBatch: 50 })
  await sync.start()
  return { log, sync, database }
}

async function dump(log: Log, topic: string) {
  const out: string[] = []
  for (const { partition, high } of await log.offsets(topic)) {
    for (let offset = 0; offset < high;) {
      const chunk = await log.fetch<unknown, string>({ topic, partition, offset })
      for (const r of chunk.records)
        out.push(`${partition}@${r.offset}:${r.key}=${JSON.stringify(r.value)}`)
      offset = chunk.nextOffset
    }
  }
  return out
}

async function until(check: () => Promise<boolean>, ms = 10_000) {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

const settled = (sync: Sync) => async () => {
  const { topics } = await sync.status()
  return topics.payments!.pending === 0 && topics.payments!.upToDate
}

test('two clients send while offline, go online, and converge on the server order', async () => {
  const leader = await server()
  const net = flaky(memoryTransport(leader, { pollMs: 50 }))
  net.state.online = false
  const a = await client(net.transport)
  const b = await client(net.transport)
  for (let i = 0; i < 30; i++) {
    await a.sync
      .producer()
      .send({ topic: 'payments', messages: [{ key: `a${i % 4}`, value: { n: i } }] })
    await b.sync
      .producer()
      .send({ topic: 'payments', messages: [{ key: `b${i % 3}`, value: { n: i } }] })
  }
  // Offline: kept locally, nothing on the server, nothing in the replica yet.
  expect((await a.sync.status()).topics.payments!.pending).toBe(30)
  expect((await a.sync.status()).connection).toBe('offline')
  expect(await dump(a.log, 'payments')).toEqual([])
  net.state.online = true
  await until(settled(a.sync))
  await until(settled(b.sync))
  await until(async () => (await dump(a.log, 'payments')).length === 60)
  await until(async () => (await dump(b.log, 'payments')).length === 60)
  const onServer = await dump(leader, 'payments')
  expect(onServer).toHaveLength(60)
  expect(await dump(a.log, 'payments')).toEqual(onServer)
  expect(await dump(b.log, 'payments')).toEqual(onServer)
  expect((await a.sync.status()).connection).toBe('online')
  await a.sync.stop()
  await b.sync.stop()
})

test('a push whose response is lost after the server committed lands exactly once', async () => {
  const leader = await server()
  const net = flaky(memoryTransport(leader, { pollMs: 50 }))
  net.state.lostResponses = 3
  const a = await client(net.transport)
  await a.sync.producer().send({
    topic: 'payments',
    messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: i, partition: 0 })),
  })
  // Records come back (and confirm) while the pusher still retries; wait for both.
  await until(async () => net.state.lostResponses === 0 && (await settled(a.sync)()))
  // Three retries of the same batch, each a duplicate the server dropped.
  await until(
    async () =>
      (
        await a.log
          .admin()
          .fetchOffsets({ groupId: '__duality-sync-pushed', topics: [outboxTopic('payments')] })
      )[0]!.partitions[0]!.offset === 20,
  )
  const onServer = await dump(leader, 'payments')
  expect(onServer).toHaveLength(20)
  expect(new Set(onServer.map((r) => r.split(':')[1])).size).toBe(20)
  expect(await dump(a.log, 'payments')).toEqual(onServer)
  await a.sync.stop()
})

test('1,000 records sent offline survive a reload and are pushed once', async () => {
  const leader = await server()
  const net = flaky(memoryTransport(leader, { pollMs: 50 }))
  net.state.online = false
  const first = await client(net.transport)
  for (let i = 0; i < 1000; i += 100) {
    await first.sync.producer().send({
      topic: 'payments',
      messages: Array.from({ length: 100 }, (_, j) => ({ key: `k${i + j}`, value: i + j })),
    })
  }
  await first.sync.stop()
  await first.log.close()
  // Reload: same database, a new log and a new sync, and the network is back.
  net.state.online = true
  const again = await client(net.transport, first.database)
  expect((await again.sync.status()).topics.payments!.pending).toBe(1000)
  await until(settled(again.sync))
  const onServer = await dump(leader, 'payments')
  expect(onServer).toHaveLength(1000)
  expect(new Set(onServer.map((r) => r.split(':')[1])).size).toBe(1000)
  expect(await dump(again.log, 'payments')).toEqual(onServer)
  await again.sync.stop()
})

test('a record the server refuses leaves the outbox with a rejected event; the rest go through', async () => {
  const leader = await openLog({ storage: memoryStorage(), cleaner: false })
  await leader.admin().createTopics({
    topics: [{ ...PAYMENTS, configEntries: [{ name: 'max.message.bytes', value: '200' }] }],
  })
  const a = await client(memoryTransport(leader, { pollMs: 50 }))
  const events: SyncEvent[] = []
  a.sync.subscribe((e) => events.push(e))
  await a.sync.producer().send({
    topic: 'payments',
    messages: [
      { key: 'ok1', value: 1, partition: 0 },
      { key: 'big', value: 'x'.repeat(500), partition: 0 },
      { key: 'ok2', value: 2, partition: 0 },
    ],
  })
  await until(settled(a.sync))
  expect((await dump(leader, 'payments')).map((r) => r.split(':')[1])).toEqual(['ok1=1', 'ok2=2'])
  const rejected = events.filter((e) => e.type === 'rejected')
  expect(rejected).toHaveLength(1)
  expect(rejected[0]).toMatchObject({ topic: 'payments', partition: 0, offset: 1 })
  expect((rejected[0] as { error: Error }).error.name).toBe('RecordTooLargeError')
  await a.sync.stop()
})

test('a server that was reset is detected: the replica is copied again, unconfirmed sends pushed again', async () => {
  let leader = await server()
  let current = memoryTransport(leader, { pollMs: 50 })
  const transport: SyncTransport = {
    describeTopic: (t, s) => current.describeTopic(t, s),
    read: (t, p, o, opts) => current.read(t, p, o, opts),
    append: (t, p, r, pr, s) => current.append(t, p, r, pr, s),
  }
  const a = await client(transport)
  await a.sync.producer().send({ topic: 'payments', messages: [{ key: 'before', value: 1 }] })
  await until(settled(a.sync))
  await a.sync.stop()
  // The server loses everything and its topic is created again (a new id).
  leader = await server()
  await leader
    .producer()
    .send({ topic: 'payments', messages: [{ key: 'fresh', value: 0, partition: 1 }] })
  current = memoryTransport(leader, { pollMs: 50 })
  const b = new Sync(a.log, { transport, topics: [PAYMENTS] })
  const resets: string[] = []
  b.subscribe((e) => e.type === 'reset' && resets.push(e.topic))
  await b.start()
  await b.producer().send({ topic: 'payments', messages: [{ key: 'after', value: 2 }] })
  await until(settled(b))
  expect(resets).toEqual(['payments'])
  const onServer = await dump(leader, 'payments')
  // The old server's record is gone with it; the replica now follows the new server exactly.
  expect(onServer.map((r) => r.split(':')[1]).sort()).toEqual(['after=2', 'fresh=0'])
  expect(await dump(a.log, 'payments')).toEqual(onServer)
  expect((await a.log.offsets(outboxTopic('payments'))).reduce((n, o) => n + o.high, 0)).toBe(2)
  await b.stop()
})

test('a partition count that differs from the server stops that topic with a typed error', async () => {
  const leader = await openLog({ storage: memoryStorage(), cleaner: false })
  await leader.admin().createTopics({ topics: [{ topic: 'payments', numPartitions: 3 }] })
  const a = await client(memoryTransport(leader))
  await until(async () => (await a.sync.status()).topics.payments!.error !== null)
  const { error } = (await a.sync.status()).topics.payments!
  expect(error!.code).toBe('INVALID_CONFIG')
  expect(error!.message).toMatch(/2 partitions here but 3 on the server/)
  await a.sync.stop()
})

test("a send through sync's producer reports the topic it named, not its outbox (KafkaJS's RecordMetadata)", async () => {
  const leader = await server()
  const net = flaky(memoryTransport(leader, { pollMs: 50 }))
  net.state.online = false
  const a = await client(net.transport)
  const [meta] = await a.sync
    .producer()
    .send({ topic: 'payments', messages: [{ key: 'k', value: 1, partition: 0 }] })
  expect(meta).toMatchObject({ topicName: 'payments', partition: 0, baseOffset: 0 })
  // The record waits in the outbox, not in the server's mirror.
  expect((await a.sync.status()).topics.payments!.pending).toBe(1)
  expect(await dump(a.log, 'payments')).toEqual([])
  await a.sync.stop()
})
