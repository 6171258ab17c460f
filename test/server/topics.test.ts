import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { formatOffset } from '../../src/server/index.ts'
import { startTestServer, type TestServer } from './support/testServer.ts'

let server: TestServer
beforeEach(async () => {
  server = await startTestServer()
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
    expect(await (await fetch(`${server.url}/admin/topics`)).json()).toEqual({ topics: ['orders'] })
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
    expect((await fetch(`${server.url}/admin/topics`).then((r) => r.json())).topics).toEqual(['t'])
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
    expect(await all.json()).toEqual([
      { key: 'ada', value: 2 },
      { key: 'cy', value: 1 },
      { key: 'bob', value: null },
    ])
    expect(all.headers.get('stream-next-offset')).toBe(formatOffset(5))
    // A read from a removed offset starts at the next record that is still there.
    expect(await (await read(p, formatOffset(1))).json()).toEqual([
      { key: 'ada', value: 2 },
      { key: 'cy', value: 1 },
      { key: 'bob', value: null },
    ])
    expect(await (await read(p, formatOffset(3))).json()).toEqual([
      { key: 'cy', value: 1 },
      { key: 'bob', value: null },
    ])
    server.clock.now += 2_000
    await fetch(`${server.url}/admin/topics/profiles/clean`, { method: 'POST' })
    expect(await (await read(p)).json()).toEqual([
      { key: 'ada', value: 2 },
      { key: 'cy', value: 1 },
    ])
    // New appends continue after the old offsets.
    await append(p, [{ key: 'dee', value: 1 }])
    expect(await (await read(p, formatOffset(5))).json()).toEqual([{ key: 'dee', value: 1 }])
  })

  test('refuse keyless records, and nothing of the batch is written', async () => {
    await createTopic('keys', { configEntries: [{ name: 'cleanup.policy', value: 'compact' }] })
    const res = await append('/topics/keys/0', [{ key: 'a', value: 1 }, { value: 2 }])
    expect(res.status).toBe(400)
    expect((await res.json()).error.message).toMatch(/key/)
    expect(await (await read('/topics/keys/0')).json()).toEqual([])
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
    expect(await (await read(p)).json()).toEqual([{ key: null, value: 'new' }])
    const below = await read(p, formatOffset(0))
    expect(below.status).toBe(410)
    expect((await below.json()).error.code).toBe('OFFSET_OUT_OF_RANGE')
    expect(below.headers.get('stream-next-offset')).toBe(formatOffset(2))
    expect((await read(p, formatOffset(2))).status).toBe(200)
    const described = await (await admin('events')).json()
    expect(described.partitions[0]).toMatchObject({ startOffset: 2, nextOffset: 3 })
  })

  test('retention.bytes keeps the newest records within the limit', async () => {
    await createTopic('sized', { configEntries: [{ name: 'retention.bytes', value: 40 }] })
    const p = '/topics/sized/0'
    for (let i = 0; i < 5; i++) await append(p, [{ key: null, value: `v${i}` }]) // 25 bytes each
    await fetch(`${server.url}/admin/topics/sized/clean`, { method: 'POST' })
    expect(await (await read(p)).json()).toEqual([{ key: null, value: 'v4' }])
  })
})
