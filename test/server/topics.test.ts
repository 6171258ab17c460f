import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest'
import { formatOffset } from '../../src/protocol/index.ts'
import type { ServeOptions } from '../../src/server/node/index.ts'
import { startNatsServer, type NatsServer } from './support/natsServer.ts'
import { startJetStreamTestServer, startTestServer, type TestServer } from './support/testServer.ts'

// The topic contract: every backend's TopicStore behind the same admin API and the same reads.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 })

let nats: NatsServer | undefined
beforeAll(async () => {
  nats = await startNatsServer()
})
afterAll(() => nats?.stop())

const backends: { name: string; start: (o?: Partial<ServeOptions>) => Promise<TestServer> }[] = [
  { name: 'sqlite', start: (o) => startTestServer(o) },
  { name: 'jetstream', start: (o) => startJetStreamTestServer(nats!.url, o) },
]

describe.each(backends)('topics on $name', ({ start: startServer }) => {
  let server: TestServer
  beforeEach(async () => {
    server = await startServer()
  })
  afterEach(() => server.stop())

  const admin = (topic: string, init: RequestInit = {}) =>
    fetch(`${server.url}/admin/topics/${topic}`, init)
  const createTopic = (topic: string, body: unknown) =>
    admin(topic, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  const append = (path: string, messages: unknown[]) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(messages),
    })
  const read = (path: string, offset = '-1') =>
    fetch(`${server.url}${path}?offset=${encodeURIComponent(offset)}`)
  interface Read {
    offset: number
    timestamp: number
    key: string | null
    value: unknown
  }
  /** The records of a read as [offset, key, value]. */
  const records = async (res: Response | Promise<Response>) =>
    ((await (await res).json()) as Read[]).map((r) => [r.offset, r.key, r.value])

  describe('topic admin', () => {
    test('creates a topic as N partition streams and describes it with Kafka config names', async () => {
      const res = await createTopic('orders', {
        numPartitions: 3,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      })
      expect(res.status).toBe(201)
      const described = await (await admin('orders')).json()
      expect(described).toMatchObject({
        topic: 'orders',
        numPartitions: 3,
        config: { 'cleanup.policy': 'compact' },
      })
      expect(described.partitions.map((p: { path: string }) => p.path)).toEqual([
        '/topics/orders/0',
        '/topics/orders/1',
        '/topics/orders/2',
      ])
      const head = await fetch(`${server.url}/topics/orders/2`, { method: 'HEAD' })
      expect(head.status).toBe(200)
      expect(head.headers.get('content-type')).toBe('application/json')
      expect(await (await fetch(`${server.url}/admin/topics`)).json()).toEqual({
        topics: ['orders'],
      })
    })

    test('refuses an existing topic, bad configs, bad names and bad partition counts', async () => {
      expect((await createTopic('t', {})).status).toBe(201)
      const again = await createTopic('t', {})
      expect(again.status).toBe(409)
      expect((await again.json()).error.code).toBe('TOPIC_ALREADY_EXISTS')
      const badConfig = await createTopic('u', {
        configEntries: [{ name: 'retention.ms', value: 'x' }],
      })
      expect(badConfig.status).toBe(400)
      expect((await badConfig.json()).error.code).toBe('INVALID_CONFIG')
      const unknown = await createTopic('u', { configEntries: [{ name: 'nope', value: 1 }] })
      expect((await unknown.json()).error.code).toBe('INVALID_CONFIG')
      const badName = await createTopic('b%20c', {})
      expect(badName.status).toBe(400)
      const badCount = await createTopic('v', { numPartitions: 0 })
      expect((await badCount.json()).error.code).toBe('INVALID_PARTITIONS')
      expect((await fetch(`${server.url}/admin/topics`).then((r) => r.json())).topics).toEqual([
        't',
      ])
    })

    test('partitions are not created or deleted through the stream API', async () => {
      const put = await fetch(`${server.url}/topics/sneaky/0`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
      })
      expect(put.status).toBe(405)
      await createTopic('t', {})
      expect((await fetch(`${server.url}/topics/t/0`, { method: 'DELETE' })).status).toBe(405)
      expect((await read('/topics/t/0')).status).toBe(200)
    })

    test('a topic partition cannot be forked into a plain stream', async () => {
      await createTopic('src', {})
      const fork = await fetch(`${server.url}/forks/src`, {
        method: 'PUT',
        headers: { 'stream-forked-from': '/topics/src/0' },
      })
      expect(fork.status).toBe(400)
      expect((await fetch(`${server.url}/forks/src`, { method: 'HEAD' })).status).toBe(404)
    })

    test('deleting a topic deletes its partitions', async () => {
      await createTopic('gone', { numPartitions: 2 })
      await append('/topics/gone/1', [{ key: 'a', value: 1 }])
      expect((await admin('gone', { method: 'DELETE' })).status).toBe(204)
      const described = await admin('gone')
      expect(described.status).toBe(404)
      expect((await described.json()).error.code).toBe('UNKNOWN_TOPIC_OR_PARTITION')
      expect((await fetch(`${server.url}/topics/gone/1`, { method: 'HEAD' })).status).toBe(404)
      expect((await admin('gone', { method: 'DELETE' })).status).toBe(404)
    })

    test('a clean or a creation racing a deletion answers as if one came first, never 5xx', async () => {
      for (let round = 0; round < 5; round++) {
        const topic = `race-${round}`
        expect((await createTopic(topic, { numPartitions: 8 })).status).toBe(201)
        const [cleaned, deleted] = await Promise.all([
          fetch(`${server.url}/admin/topics/${topic}/clean`, { method: 'POST' }),
          admin(topic, { method: 'DELETE' }),
        ])
        expect([200, 404]).toContain(cleaned.status)
        expect(deleted.status).toBe(204)
        const [created, deletedAgain] = await Promise.all([
          createTopic(topic, { numPartitions: 3 }),
          admin(topic, { method: 'DELETE' }),
        ])
        // The creation succeeded whatever the deletion did after it: its answer says so.
        expect(created.status).toBe(201)
        expect((await created.json()).partitions).toHaveLength(3)
        expect([204, 404]).toContain(deletedAgain.status)
      }
    })
  })

  describe('compacted topics', () => {
    test('keep the latest record per key with offsets unchanged, and drop old tombstones', async () => {
      await createTopic('profiles', {
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'delete.retention.ms', value: '1000' },
        ],
      })
      const p = '/topics/profiles/0'
      await append(p, [
        { key: 'ada', value: 1 }, // 0
        { key: 'bob', value: 1 }, // 1
        { key: 'ada', value: 2 }, // 2
        { key: 'cy', value: 1 }, // 3
        { key: 'bob', value: null }, // 4: tombstone
      ])
      const cleaned = await fetch(`${server.url}/admin/topics/profiles/clean`, { method: 'POST' })
      expect((await cleaned.json()).partitions[0].removedByCompaction).toBe(2)
      const all = await read(p)
      expect(all.headers.get('stream-next-offset')).toBe(formatOffset(5))
      // Offsets are unchanged: each read record carries its own.
      expect(await records(all)).toEqual([
        [2, 'ada', 2],
        [3, 'cy', 1],
        [4, 'bob', null],
      ])
      // A read from a removed offset starts at the next record that is still there.
      expect(await records(read(p, formatOffset(1)))).toEqual([
        [2, 'ada', 2],
        [3, 'cy', 1],
        [4, 'bob', null],
      ])
      expect(await records(read(p, formatOffset(3)))).toEqual([
        [3, 'cy', 1],
        [4, 'bob', null],
      ])
      server.clock.now += 2_000
      await fetch(`${server.url}/admin/topics/profiles/clean`, { method: 'POST' })
      expect(await records(read(p))).toEqual([
        [2, 'ada', 2],
        [3, 'cy', 1],
      ])
      // New appends continue after the old offsets.
      await append(p, [{ key: 'dee', value: 1 }])
      expect(await records(read(p, formatOffset(5)))).toEqual([[5, 'dee', 1]])
    })

    test('compaction cleans a prefix: an old-stamped tombstone never outlives a younger value it deleted', async () => {
      await createTopic('stamps', {
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'min.compaction.lag.ms', value: '3600000' },
          { name: 'delete.retention.ms', value: '0' },
        ],
      })
      const p = '/topics/stamps/0'
      const now = server.clock.now
      await append(p, [{ key: 'old', value: 1, timestamp: now - 7_200_000 }]) // 0: cleanable
      await append(p, [{ key: 'old', value: 2, timestamp: now - 7_200_000 }]) // 1: cleanable
      await append(p, [{ key: 'K', value: 'v1', timestamp: now }]) // 2: too young: stops the prefix
      await append(p, [{ key: 'K', value: null, timestamp: now - 7_200_000 }]) // 3: after it
      const cleaned = await fetch(`${server.url}/admin/topics/stamps/clean`, { method: 'POST' })
      expect((await cleaned.json()).partitions[0].removedByCompaction).toBe(1)
      expect(await records(read(p))).toEqual([
        [1, 'old', 2],
        [2, 'K', 'v1'],
        [3, 'K', null],
      ])
    })

    test('max.message.bytes: a batch with a record over it is refused whole, 413', async () => {
      await createTopic('small', { configEntries: [{ name: 'max.message.bytes', value: '64' }] })
      const p = '/topics/small/0'
      const res = await append(p, [
        { key: 'a', value: 'fits' },
        { key: 'b', value: 'x'.repeat(64) },
      ])
      expect(res.status).toBe(413)
      expect((await res.json()).error.code).toBe('MESSAGE_TOO_LARGE')
      expect(await (await read(p)).json()).toEqual([])
      expect((await append(p, [{ key: 'a', value: 'fits' }])).status).toBe(204)
    })

    test('refuse keyless records, and nothing of the batch is written', async () => {
      await createTopic('keys', { configEntries: [{ name: 'cleanup.policy', value: 'compact' }] })
      const res = await append('/topics/keys/0', [{ key: 'a', value: 1 }, { value: 2 }])
      expect(res.status).toBe(400)
      expect((await res.json()).error.message).toMatch(/key/)
      expect(await (await read('/topics/keys/0')).json()).toEqual([])
    })

    test('topic records are { key, value, headers } objects; reads add offset and timestamp', async () => {
      await createTopic('shape', {})
      const p = '/topics/shape/0'
      for (const bad of [
        [1],
        ['x'],
        [{ key: 1, value: 1 }],
        [{ key: 'a', offset: 7 }],
        [{ headers: { a: 1 } }],
        // Lone surrogates: no UTF-8 form, so two such keys would compact as one.
        [{ key: '\ud800', value: 1 }],
        [{ key: 'a\udc00', value: 1 }],
        // Stamped over an hour ahead (message.timestamp.after.max.ms): it would hold compaction
        // and retention back behind it.
        [{ key: 'k', value: 1, timestamp: server.clock.now + 3_600_001 }],
      ]) {
        const res = await append(p, bad)
        expect(res.status).toBe(400)
        expect((await res.json()).error.code).toBe('INVALID_RECORD')
      }
      await append(p, [{ key: 'k', value: { amount: 3.5 }, headers: { h: 'v' } }, {}])
      expect(await (await read(p)).json()).toEqual([
        {
          offset: 0,
          timestamp: server.clock.now,
          key: 'k',
          value: { amount: 3.5 },
          headers: { h: 'v' },
        },
        { offset: 1, timestamp: server.clock.now, key: null, value: null },
      ])
    })
  })

  describe('retention', () => {
    test('removes records older than retention.ms; reads below the start get 410', async () => {
      await createTopic('events', { configEntries: [{ name: 'retention.ms', value: 60_000 }] })
      const p = '/topics/events/0'
      await append(p, [
        { key: null, value: 'old-1' },
        { key: null, value: 'old-2' },
      ])
      server.clock.now += 61_000
      await append(p, [{ key: null, value: 'new' }])
      const cleaned = await (
        await fetch(`${server.url}/admin/topics/events/clean`, { method: 'POST' })
      ).json()
      expect(cleaned.partitions[0]).toMatchObject({ startOffset: 2, removedByRetention: 2 })
      expect(await records(read(p))).toEqual([[2, null, 'new']])
      const below = await read(p, formatOffset(0))
      expect(below.status).toBe(410)
      expect((await below.json()).error.code).toBe('OFFSET_OUT_OF_RANGE')
      expect(below.headers.get('stream-next-offset')).toBe(formatOffset(2))
      expect((await read(p, formatOffset(2))).status).toBe(200)
      const described = await (await admin('events')).json()
      expect(described.partitions[0]).toMatchObject({ startOffset: 2, nextOffset: 3 })
    })

    test('the background cleaner applies retention without being asked', async () => {
      const cleaned = await startServer({ cleanerIntervalMs: 20 })
      try {
        await fetch(`${cleaned.url}/admin/topics/bg`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ configEntries: [{ name: 'retention.ms', value: 1000 }] }),
        })
        const p = `${cleaned.url}/topics/bg/0`
        await fetch(p, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify([{ key: null, value: 'old' }]),
        })
        cleaned.clock.now += 5_000
        await vi.waitFor(
          async () => expect((await fetch(`${p}?offset=${formatOffset(0)}`)).status).toBe(410),
          { timeout: 30_000 },
        )
        expect(await (await fetch(`${p}?offset=-1`)).json()).toEqual([])
      } finally {
        await cleaned.stop()
      }
    })

    test('retention.bytes keeps the newest records within the limit', async () => {
      await createTopic('sized', { configEntries: [{ name: 'retention.bytes', value: 40 }] })
      const p = '/topics/sized/0'
      for (let i = 0; i < 5; i++) await append(p, [{ key: null, value: `v${i}` }]) // 25 bytes each
      await fetch(`${server.url}/admin/topics/sized/clean`, { method: 'POST' })
      expect(await records(read(p))).toEqual([[4, null, 'v4']])
    })
  })
})
