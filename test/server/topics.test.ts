import { expect, test, vi } from 'vitest'
import { formatOffset } from '../../src/protocol/index.ts'
import { createApp, memoryServerStorage } from '../../src/server/index.ts'
import { startTestServer } from './support/testServer.ts'

// The topic admin API and topic reads over HTTP: statuses, error codes and bodies. What each
// engine does with topics (creation, deletion, races, record rules, compaction, retention, the
// background pass) is the engine contract's (test/contract/engineContract.ts, run over memory,
// SQLite and JetStream); the HTTP layer over it is one code for every engine, tested here once.

const json = { 'content-type': 'application/json' }

function app() {
  const clock = { now: Date.UTC(2030, 0, 1) }
  const { app } = createApp({ storage: memoryServerStorage(), now: () => clock.now })
  const request = (path: string, init?: RequestInit) => Promise.resolve(app.request(path, init))
  return {
    clock,
    request,
    admin: (topic: string, init?: RequestInit) => request(`/admin/topics/${topic}`, init),
    createTopic: (topic: string, body: unknown) =>
      request(`/admin/topics/${topic}`, {
        method: 'PUT',
        headers: json,
        body: JSON.stringify(body),
      }),
    append: (path: string, messages: unknown[]) =>
      request(path, { method: 'POST', headers: json, body: JSON.stringify(messages) }),
    read: (path: string, offset = '-1') => request(`${path}?offset=${encodeURIComponent(offset)}`),
  }
}

async function expectError(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status)
  expect((await res.json()).error.code).toBe(code)
}

test('admin answers: 201 with the description, describe, list, and a partition HEAD', async () => {
  const { admin, createTopic, request } = app()
  const res = await createTopic('orders', {
    numPartitions: 3,
    configEntries: [
      { name: 'cleanup.policy', value: 'compact' },
      { name: 'retention.ms', value: 60_000 }, // a number, as KafkaJS sends it
    ],
  })
  expect(res.status).toBe(201)
  const created = await res.json()
  const described = await (await admin('orders')).json()
  expect(described).toEqual(created)
  expect(described).toMatchObject({
    topic: 'orders',
    numPartitions: 3,
    config: { 'cleanup.policy': 'compact', 'retention.ms': 60_000 },
  })
  expect(described.partitions.map((p: { path: string }) => p.path)).toEqual([
    '/topics/orders/0',
    '/topics/orders/1',
    '/topics/orders/2',
  ])
  const head = await request('/topics/orders/2', { method: 'HEAD' })
  expect(head.status).toBe(200)
  expect(head.headers.get('content-type')).toBe('application/json')
  expect(await (await request('/admin/topics')).json()).toEqual({ topics: ['orders'] })
})

test("admin refusals: each error's Kafka code with its status", async () => {
  const { admin, createTopic, request } = app()
  expect((await createTopic('t', {})).status).toBe(201)
  await expectError(await createTopic('t', {}), 409, 'TOPIC_ALREADY_EXISTS')
  const badConfig = { configEntries: [{ name: 'retention.ms', value: 'x' }] }
  await expectError(await createTopic('u', badConfig), 400, 'INVALID_CONFIG')
  const unknown = { configEntries: [{ name: 'nope', value: 1 }] }
  await expectError(await createTopic('u', unknown), 400, 'INVALID_CONFIG')
  await expectError(await createTopic('b%20c', {}), 400, 'INVALID_ARGUMENT')
  await expectError(await createTopic('v', { numPartitions: 0 }), 400, 'INVALID_PARTITIONS')
  expect((await (await request('/admin/topics')).json()).topics).toEqual(['t'])

  expect((await admin('t', { method: 'DELETE' })).status).toBe(204)
  await expectError(await admin('t'), 404, 'UNKNOWN_TOPIC_OR_PARTITION')
  await expectError(await admin('t', { method: 'DELETE' }), 404, 'UNKNOWN_TOPIC_OR_PARTITION')
  await expectError(await admin('t/clean', { method: 'POST' }), 404, 'UNKNOWN_TOPIC_OR_PARTITION')
  expect((await request('/topics/t/0', { method: 'HEAD' })).status).toBe(404)
})

test('partitions are not created or deleted through the stream API, nor forked', async () => {
  const { createTopic, read, request } = app()
  const put = await request('/topics/sneaky/0', { method: 'PUT', headers: json })
  expect(put.status).toBe(405)
  await createTopic('t', {})
  expect((await request('/topics/t/0', { method: 'DELETE' })).status).toBe(405)
  expect((await read('/topics/t/0')).status).toBe(200)
  const fork = await request('/v1/stream/forks/t', {
    method: 'PUT',
    headers: { 'stream-forked-from': '/topics/t/0' },
  })
  expect(fork.status).toBe(400)
  expect((await request('/v1/stream/forks/t', { method: 'HEAD' })).status).toBe(404)
})

test('record refusals are 400 INVALID_RECORD (413 over max.message.bytes); reads add offset and timestamp', async () => {
  const { append, clock, createTopic, read } = app()
  await createTopic('shape', { configEntries: [{ name: 'max.message.bytes', value: '64' }] })
  const p = '/topics/shape/0'
  for (const bad of [[1], [{ key: 1, value: 1 }], [{ key: 'a', offset: 7 }]]) {
    await expectError(await append(p, bad), 400, 'INVALID_RECORD')
  }
  const big = await append(p, [{ key: 'b', value: 'x'.repeat(64) }])
  await expectError(big, 413, 'MESSAGE_TOO_LARGE')
  await createTopic('keys', { configEntries: [{ name: 'cleanup.policy', value: 'compact' }] })
  const keyless = await append('/topics/keys/0', [{ value: 2 }])
  expect(keyless.status).toBe(400)
  expect((await keyless.json()).error).toMatchObject({
    code: 'INVALID_RECORD',
    message: expect.stringMatching(/key/),
  })

  expect(
    (await append(p, [{ key: 'k', value: { amount: 3.5 }, headers: { h: 'v' } }, {}])).status,
  ).toBe(204)
  expect(await (await read(p)).json()).toEqual([
    {
      offset: 0,
      timestamp: clock.now,
      key: 'k',
      value: { amount: 3.5 },
      headers: { h: 'v' },
    },
    { offset: 1, timestamp: clock.now, key: null, value: null },
  ])
})

test('a clean answers its report per partition; a read below the start is 410 with the start as next offset', async () => {
  const { admin, append, clock, createTopic, read } = app()
  await createTopic('events', {
    configEntries: [
      { name: 'cleanup.policy', value: 'compact,delete' },
      { name: 'retention.ms', value: 60_000 },
    ],
  })
  const p = '/topics/events/0'
  await append(p, [{ key: 'old', value: 0 }])
  clock.now += 61_000
  await append(p, [
    { key: 'x', value: 1 },
    { key: 'y', value: 1 },
    { key: 'x', value: 2 },
  ])
  const cleaned = await admin('events/clean', { method: 'POST' })
  expect(cleaned.status).toBe(200)
  expect(await cleaned.json()).toEqual({
    partitions: [{ path: p, startOffset: 1, removedByRetention: 1, removedByCompaction: 1 }],
  })
  const below = await read(p, formatOffset(0))
  await expectError(below, 410, 'OFFSET_OUT_OF_RANGE')
  expect(below.headers.get('stream-next-offset')).toBe(formatOffset(1))
  const all = await read(p, formatOffset(1))
  expect(all.status).toBe(200)
  expect(all.headers.get('stream-next-offset')).toBe(formatOffset(4))
  const records = (await all.json()) as { offset: number; key: string }[]
  expect(records.map((r) => [r.offset, r.key])).toEqual([
    [2, 'y'],
    [3, 'x'],
  ])
  expect((await (await admin('events')).json()).partitions[0]).toMatchObject({
    startOffset: 1,
    nextOffset: 4,
  })
})

test('the server runs the background cleaner without being asked', async () => {
  const server = await startTestServer({ cleanerIntervalMs: 20 })
  try {
    await fetch(`${server.url}/admin/topics/bg`, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify({ configEntries: [{ name: 'retention.ms', value: 1000 }] }),
    })
    const p = `${server.url}/topics/bg/0`
    await fetch(p, { method: 'POST', headers: json, body: '[{"key":null,"value":"old"}]' })
    server.clock.now += 5_000
    await vi.waitFor(
      async () => expect((await fetch(`${p}?offset=${formatOffset(0)}`)).status).toBe(410),
      { timeout: 30_000 },
    )
    expect(await (await fetch(`${p}?offset=-1`)).json()).toEqual([])
  } finally {
    await server.stop()
  }
}, 60_000)
