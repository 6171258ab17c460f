import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, expect, test, vi } from 'vitest'
import { connect } from '@nats-io/transport-node'
import { jetstreamManager } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import { formatOffset } from '../../src/protocol/index.ts'
import type { RunningServer } from '../../src/server/node/index.ts'
import { startNatsServer, type NatsServer } from './support/natsServer.ts'
import { startJetStreamServers, startTestServer } from './support/testServer.ts'

// Topics on JetStream as they are used when scaled out: two duality servers, one bucket.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 })

const bucket = `topics_${randomUUID().slice(0, 8)}`
const clock = { now: Date.now() }
let nats: NatsServer
let servers: RunningServer[] = []

beforeAll(async () => {
  nats = await startNatsServer()
  servers = await startJetStreamServers(
    nats.url,
    2,
    { bucket, now: () => clock.now },
    { cleanerIntervalMs: 0 },
  )
})

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
  await nats?.stop()
})

const json = { 'content-type': 'application/json' }
const createTopic = (server: RunningServer, topic: string, body: unknown = {}) =>
  fetch(`${server.url}/admin/topics/${topic}`, {
    method: 'PUT',
    headers: json,
    body: JSON.stringify(body),
  })
const describe = async (server: RunningServer, topic: string) =>
  (await fetch(`${server.url}/admin/topics/${topic}`)).json()

test('a topic created on one server is described, listed and appended to on the other', async () => {
  const [a, b] = servers as [RunningServer, RunningServer]
  expect((await createTopic(a, 'orders', { numPartitions: 4 })).status).toBe(201)
  const described = await describe(b, 'orders')
  expect(described).toMatchObject({ topic: 'orders', numPartitions: 4 })
  expect(await describe(a, 'orders')).toEqual(described)
  expect((await (await fetch(`${b.url}/admin/topics`)).json()).topics).toContain('orders')
  const sends = Array.from({ length: 20 }, (_, n) =>
    fetch(`${(n % 2 ? a : b).url}/topics/orders/1`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify([{ key: `k${n}`, value: n }]),
    }),
  )
  for (const res of await Promise.all(sends)) expect(res.status).toBe(204)
  const read = (await (await fetch(`${a.url}/topics/orders/1?offset=-1`)).json()) as {
    offset: number
    value: number
  }[]
  expect(read.map((r) => r.offset)).toEqual(Array.from({ length: 20 }, (_, i) => i))
  expect(new Set(read.map((r) => r.value)).size).toBe(20)
  expect((await describe(b, 'orders')).partitions[1]).toMatchObject({ nextOffset: 20 })
})

test('keyed records read back with their key and headers, as on SQLite', async () => {
  // KafkaJS's consumer gives each message the key (and headers) it was produced with; the
  // engine keeps the key apart only for compaction, and reads must show it on every engine.
  const [a, b] = servers as [RunningServer, RunningServer]
  const sqlite = await startTestServer()
  try {
    const sent = [
      { key: 'k1', value: 1 },
      { key: 'ключ ✓', value: { nested: [1] }, headers: { origin: 'device-1' } },
      { key: null, value: 3 },
      { key: '', value: 4 },
    ]
    const readBack = async (writer: RunningServer, reader: RunningServer) => {
      expect((await createTopic(writer, 'keyed')).status).toBe(201)
      const posted = await fetch(`${writer.url}/topics/keyed/0`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify(sent),
      })
      expect(posted.status).toBe(204)
      const read = (await (await fetch(`${reader.url}/topics/keyed/0?offset=-1`)).json()) as {
        offset: number
        timestamp: number
      }[]
      return read.map(({ offset: _offset, timestamp: _timestamp, ...message }) => message)
    }
    const overJetStream = await readBack(a, b)
    expect(overJetStream).toEqual(sent)
    expect(overJetStream).toEqual(await readBack(sqlite, sqlite))
  } finally {
    await sqlite.stop()
  }
})

test('two servers creating one topic at once: one creates it, the other gets 409', async () => {
  const [a, b] = servers as [RunningServer, RunningServer]
  const results = await Promise.all([
    createTopic(a, 'race', { numPartitions: 6 }),
    createTopic(b, 'race', { numPartitions: 3 }),
  ])
  const statuses = results.map((r) => r.status).sort()
  expect(statuses).toEqual([201, 409])
  const winner = (await results.find((r) => r.status === 201)!.json()) as { numPartitions: number }
  expect((await describe(a, 'race')).numPartitions).toBe(winner.numPartitions)
})

test('a topic deleted through one server is gone on both; created again it has a new id', async () => {
  const [a, b] = servers as [RunningServer, RunningServer]
  const first = await (await createTopic(a, 'again', { numPartitions: 2 })).json()
  await fetch(`${a.url}/topics/again/0`, { method: 'POST', headers: json, body: '[{"value":1}]' })
  expect((await fetch(`${b.url}/admin/topics/again`, { method: 'DELETE' })).status).toBe(204)
  expect((await fetch(`${a.url}/admin/topics/again`)).status).toBe(404)
  expect((await fetch(`${a.url}/topics/again/0`, { method: 'HEAD' })).status).toBe(404)
  const second = await (await createTopic(b, 'again', { numPartitions: 2 })).json()
  expect(second.id).not.toBe(first.id)
  expect(await (await fetch(`${a.url}/topics/again/0?offset=-1`)).json()).toEqual([])
})

test("a deletion still deleting partitions when the name is created again spares the new topic's", async () => {
  const [a, b] = servers as [RunningServer, RunningServer]
  expect((await createTopic(a, 'reborn', { numPartitions: 2 })).status).toBe(201)
  // b's partition deletions wait (a busy server): the topic entry is gone, its streams not yet.
  let open!: () => void
  const gate = new Promise<void>((resolve) => (open = resolve))
  const deleteStream = b.engine.delete.bind(b.engine)
  const held = vi.spyOn(b.engine, 'delete').mockImplementation(async (...args) => {
    await gate
    return deleteStream(...args)
  })
  try {
    const deleting = fetch(`${b.url}/admin/topics/reborn`, { method: 'DELETE' })
    await vi.waitFor(() => expect(held).toHaveBeenCalled())
    const created = await createTopic(a, 'reborn', { numPartitions: 2 })
    expect(created.status).toBe(201)
    const append = await fetch(`${a.url}/topics/reborn/1`, {
      method: 'POST',
      headers: json,
      body: '[{"key":"k","value":"new"}]',
    })
    expect(append.status).toBe(204)
    open()
    expect((await deleting).status).toBe(204)
  } finally {
    held.mockRestore()
  }
  const described = await describe(b, 'reborn')
  expect(described.numPartitions).toBe(2)
  const records = await (await fetch(`${b.url}/topics/reborn/1?offset=-1`)).json()
  expect(records.map((r: { value: string }) => r.value)).toEqual(['new'])
})

test('a creation cut short by a dead server blocks the name for a while, then is replaced', async () => {
  const [a] = servers as [RunningServer]
  // What a server that died creating "halfway" leaves: a claim never made ready, one partition.
  await a.engine.createStream({
    path: '/topics/halfway/0',
    contentType: 'application/json',
    ttlSeconds: undefined,
    expiresAt: undefined,
    closed: false,
    body: new TextEncoder().encode('[{"key":"old","value":1}]'),
    fork: undefined,
    topic: JSON.stringify({
      topic: 'halfway',
      id: 'dead',
      partition: 0,
      numPartitions: 2,
      config: { 'cleanup.policy': 'delete' },
    }),
  })
  const nc = await connect({ servers: nats.url })
  const kv = await new Kvm(nc).open(bucket)
  const entry = { topic: 'halfway', id: 'dead', numPartitions: 2, ready: false }
  await kv.create(
    `t.${Buffer.from('halfway').toString('base64url')}`,
    JSON.stringify({ ...entry, claimedAt: clock.now }),
  )
  await nc.close()

  // Not described (not ready), and the name is held while its creator might still be at work.
  expect((await fetch(`${a.url}/admin/topics/halfway`)).status).toBe(404)
  expect((await createTopic(a, 'halfway', { numPartitions: 2 })).status).toBe(409)
  clock.now += 61_000
  const created = await createTopic(a, 'halfway', { numPartitions: 2 })
  expect(created.status).toBe(201)
  expect((await created.json()).id).not.toBe('dead')
  // The leftover partition was replaced: its record is not in the new topic.
  expect(await (await fetch(`${a.url}/topics/halfway/0?offset=-1`)).json()).toEqual([])
})

test('partitions a dead deleter left behind are not served: 404 for reads and appends', async () => {
  const [a, b] = servers as [RunningServer, RunningServer]
  expect((await createTopic(a, 'leftover', { numPartitions: 3 })).status).toBe(201)
  // What a server that died deleting the topic leaves: the entry gone, the partitions not.
  const nc = await connect({ servers: nats.url })
  const kv = await new Kvm(nc).open(bucket)
  await kv.delete(`t.${Buffer.from('leftover').toString('base64url')}`)
  await nc.close()
  expect((await fetch(`${b.url}/admin/topics/leftover`)).status).toBe(404)
  const append = (server: RunningServer, partition: number) =>
    fetch(`${server.url}/topics/leftover/${partition}`, {
      method: 'POST',
      headers: json,
      body: '[{"value":1}]',
    })
  expect((await append(b, 2)).status).toBe(404)
  expect((await fetch(`${b.url}/topics/leftover/2?offset=-1`)).status).toBe(404)
  expect((await fetch(`${b.url}/topics/leftover/2`, { method: 'HEAD' })).status).toBe(404)
  // Created again with fewer partitions: the new ones are served, the old third one is not.
  expect((await createTopic(b, 'leftover', { numPartitions: 2 })).status).toBe(201)
  expect((await append(b, 1)).status).toBe(204)
  expect((await append(b, 2)).status).toBe(404)
})

test('a clean that committed a new start but died before purging is finished by the next pass', async () => {
  const [a] = servers as [RunningServer]
  await createTopic(a, 'halfclean')
  const p = '/topics/halfclean/0'
  await fetch(`${a.url}${p}`, {
    method: 'POST',
    headers: json,
    body: '[{"value":0},{"value":1},{"value":2}]',
  })
  // The dead cleaner's first step: the metadata says records start at 2; JetStream still has 0-2.
  const nc = await connect({ servers: nats.url })
  const kv = await new Kvm(nc).open(bucket)
  const key = `s.${Buffer.from(p).toString('base64url')}`
  const entry = (await kv.get(key))!
  const meta = entry.json<{ id: number; startOffset: number }>()
  await kv.update(key, JSON.stringify({ ...meta, startOffset: 2 }), entry.revision)
  const jsm = await jetstreamManager(nc)
  const before = (await jsm.streams.info(`DS_${meta.id}`)).state.messages
  await fetch(`${a.url}/admin/topics/halfclean/clean`, { method: 'POST' })
  const after = (await jsm.streams.info(`DS_${meta.id}`)).state.messages
  await nc.close()
  expect([before, after]).toEqual([3, 1])
  const read = (await (await fetch(`${a.url}${p}?offset=-1`)).json()) as { offset: number }[]
  expect(read.map((r) => r.offset)).toEqual([2])
})

test('a clean through one server: the other serves the new start (410 below) and the compaction', async () => {
  const [a, b] = servers as [RunningServer, RunningServer]
  await createTopic(a, 'clean', {
    configEntries: [
      { name: 'cleanup.policy', value: 'compact,delete' },
      { name: 'retention.ms', value: 60_000 },
    ],
  })
  const p = '/topics/clean/0'
  const append = (messages: unknown[]) =>
    fetch(`${a.url}${p}`, { method: 'POST', headers: json, body: JSON.stringify(messages) })
  await append([{ key: 'old', value: 0 }]) // 0: past retention
  clock.now += 61_000
  await append([
    { key: 'x', value: 1 }, // 1: compacted away
    { key: 'y', value: 1 }, // 2
    { key: 'x', value: 2 }, // 3
  ])
  const cleaned = await (
    await fetch(`${b.url}/admin/topics/clean/clean`, { method: 'POST' })
  ).json()
  expect(cleaned.partitions[0]).toMatchObject({
    startOffset: 1,
    removedByRetention: 1,
    removedByCompaction: 1,
  })
  expect((await fetch(`${a.url}${p}?offset=${formatOffset(0)}`)).status).toBe(410)
  const records = (await (await fetch(`${a.url}${p}?offset=-1`)).json()) as {
    offset: number
    key: string
  }[]
  expect(records.map((r) => [r.offset, r.key])).toEqual([
    [2, 'y'],
    [3, 'x'],
  ])
  expect((await describe(a, 'clean')).partitions[0]).toMatchObject({
    startOffset: 1,
    nextOffset: 4,
  })
})

test('long reads (a consumer, not single gets) step over compaction gaps and stop at the tail', async () => {
  const [a, b] = servers as [RunningServer, RunningServer]
  await createTopic(a, 'long', { configEntries: [{ name: 'cleanup.policy', value: 'compact' }] })
  const p = '/topics/long/0'
  // 500 records over 10 keys, in appends of 50: offsets 490-499 hold each key's latest value.
  for (let batch = 0; batch < 10; batch++) {
    const messages = Array.from({ length: 50 }, (_, i) => {
      const n = batch * 50 + i
      return { key: `k${n % 10}`, value: n }
    })
    await fetch(`${a.url}${p}`, { method: 'POST', headers: json, body: JSON.stringify(messages) })
  }
  type Rec = { offset: number; key: string; value: number }
  const before = (await (await fetch(`${b.url}${p}?offset=-1`)).json()) as Rec[]
  expect(before.map((r) => r.offset)).toEqual(Array.from({ length: 500 }, (_, i) => i))
  const cleaned = await (await fetch(`${a.url}/admin/topics/long/clean`, { method: 'POST' })).json()
  expect(cleaned.partitions[0].removedByCompaction).toBe(490)
  const after = (await (await fetch(`${b.url}${p}?offset=-1`)).json()) as Rec[]
  expect(after.map((r) => [r.offset, r.key, r.value])).toEqual(
    Array.from({ length: 10 }, (_, i) => [490 + i, `k${i}`, 490 + i]),
  )
  // From inside the removed range, the read starts at the next record still there.
  const mid = (await (await fetch(`${b.url}${p}?offset=${formatOffset(100)}`)).json()) as Rec[]
  expect(mid.map((r) => r.offset)).toEqual(Array.from({ length: 10 }, (_, i) => 490 + i))
})

test('retention reads the whole partition first, past what one read returns (20,000)', async () => {
  const [a] = servers as [RunningServer]
  await createTopic(a, 'huge', { configEntries: [{ name: 'retention.ms', value: 60_000 }] })
  const p = `${a.url}/topics/huge/0`
  for (let batch = 0; batch < 11; batch++) {
    const old = Array.from({ length: 2_000 }, (_, i) => ({ value: i, timestamp: 1 }))
    const res = await fetch(p, { method: 'POST', headers: json, body: JSON.stringify(old) })
    expect(res.status).toBe(204)
  }
  await fetch(p, { method: 'POST', headers: json, body: '[{"value":"fresh"}]' })
  const cleaned = await (await fetch(`${a.url}/admin/topics/huge/clean`, { method: 'POST' })).json()
  expect(cleaned.partitions[0]).toMatchObject({ startOffset: 22_000, removedByRetention: 22_000 })
  const left = (await (await fetch(`${p}?offset=-1`)).json()) as { offset: number }[]
  expect(left.map((r) => r.offset)).toEqual([22_000])
})

test('a long plain stream reads back in chunks, in order, nothing twice', async () => {
  const [a, b] = servers as [RunningServer, RunningServer]
  await fetch(`${a.url}/v1/stream/long-plain`, { method: 'PUT', headers: json })
  const values = Array.from({ length: 3_000 }, (_, n) => ({ n, pad: 'x'.repeat(400) }))
  for (let at = 0; at < values.length; at += 500) {
    await fetch(`${b.url}/v1/stream/long-plain`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify(values.slice(at, at + 500)),
    })
  }
  const read: unknown[] = []
  let offset = '-1'
  let chunks = 0
  for (;;) {
    const res = await fetch(`${a.url}/v1/stream/long-plain?offset=${offset}`)
    read.push(...((await res.json()) as unknown[]))
    chunks++
    offset = res.headers.get('stream-next-offset')!
    if (res.headers.get('stream-up-to-date') === 'true') break
  }
  expect(chunks).toBeGreaterThan(1) // 1.2 MB: more than one 1 MiB chunk
  expect(read).toEqual(values)
})

test('records missing at a read start with the start unmoved are skipped, not refused', async () => {
  const [a] = servers as [RunningServer]
  await createTopic(a, 'holes', {})
  const p = '/topics/holes/0'
  await fetch(`${a.url}${p}`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify([0, 1, 2, 3].map((n) => ({ key: null, value: n }))),
  })
  // The first two messages vanish from JetStream behind the metadata's back (what a reader sees
  // mid-clean): the read re-checks the start, finds it unmoved, and serves what is there.
  const id = (await fetch(`${a.url}${p}`, { method: 'HEAD' })).headers.get('etag')!.split(':')[0]!
  const nc = await connect({ servers: nats.url })
  const jsm = await jetstreamManager(nc)
  await jsm.streams.purge(`DS_${id.replace(/"/g, '')}`, { seq: 3 })
  await nc.close()
  const res = await fetch(`${a.url}${p}?offset=-1`)
  expect(res.status).toBe(200)
  expect(((await res.json()) as { offset: number }[]).map((r) => r.offset)).toEqual([2, 3])
})

test('one server at a time runs the background cleaner; another takes over when it stops', async () => {
  const frozen = { now: Date.now() }
  const pair = await startJetStreamServers(
    nats.url,
    2,
    // Leases run on the servers' clock: frozen here, so only the test can make one lapse.
    { bucket: `cleaner_${randomUUID().slice(0, 8)}`, now: () => frozen.now },
    { cleanerIntervalMs: 50 },
  )
  const passes = pair.map((s) => vi.spyOn(s.engine.topics, 'cleanPartition'))
  try {
    expect((await createTopic(pair[0]!, 'swept', { numPartitions: 2 })).status).toBe(201)
    await vi.waitFor(() =>
      expect(passes[0]!.mock.calls.length + passes[1]!.mock.calls.length).toBeGreaterThan(10),
    )
    const leader = passes[0]!.mock.calls.length > 0 ? 0 : 1
    expect(passes[1 - leader]!.mock.calls.length).toBe(0)
    await pair[leader]!.close()
    // The lease lapses three intervals after its last renewal; then the other server cleans.
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(passes[1 - leader]!.mock.calls.length).toBe(0)
    frozen.now += 151
    await vi.waitFor(() => expect(passes[1 - leader]!.mock.calls.length).toBeGreaterThan(0), {
      timeout: 10_000,
    })
  } finally {
    await Promise.all(pair.map((s) => s.close().catch(() => undefined)))
  }
})
