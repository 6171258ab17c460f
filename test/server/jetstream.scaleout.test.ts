import { afterAll, beforeAll, expect, test, vi } from 'vitest'
import type { RunningServer } from '../../src/server/node/index.ts'
import type { JetStreamLog } from '../../src/server/engines/jetstream/JetStreamLog.ts'
import type { JetStreamMetaStore } from '../../src/server/engines/jetstream/JetStreamMetaStore.ts'
import { startNatsServer, type NatsServer } from './support/natsServer.ts'
import { startJetStreamServers } from './support/testServer.ts'
import { connect, headers } from '@nats-io/transport-node'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'

// Two duality servers, each with its own NATS connection, over one JetStream: what scaling out
// behind a load balancer looks like. Generous timeouts: other suites share the machine's 2 cores.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 })

let nats: NatsServer
let servers: RunningServer[] = []

beforeAll(async () => {
  nats = await startNatsServer()
  // Records left uncommitted by a dead writer are adopted after 300 ms (the last test).
  servers = await startJetStreamServers(
    nats.url,
    2,
    { adoptAfterMs: 300 },
    { longPollTimeoutMs: 20_000 },
  )
})

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
  await nats?.stop()
})

const json = { 'content-type': 'application/json' }

async function readAll(base: string, path: string): Promise<unknown[]> {
  const all: unknown[] = []
  let offset = '-1'
  for (;;) {
    const res = await fetch(`${base}${path}?offset=${offset}`)
    expect(res.status).toBe(200)
    all.push(...((await res.json()) as unknown[]))
    offset = res.headers.get('stream-next-offset')!
    if (res.headers.get('stream-up-to-date') === 'true') return all
  }
}

test('concurrent appends through two servers get one dense order, each append once', async () => {
  const [a, b] = servers as [RunningServer, RunningServer]
  expect((await fetch(`${a.url}/v1/stream/orders`, { method: 'PUT', headers: json })).status).toBe(
    201,
  )
  const perServer = 60
  const acked: { id: string; offset: string }[] = []
  const appendAll = async (server: RunningServer, name: string): Promise<void> => {
    // Eight appends in flight per server at a time: they contend with each other and the other server.
    const ids = Array.from({ length: perServer }, (_, i) => `${name}-${i}`)
    const lanes = Array.from({ length: 8 }, async (_, lane) => {
      for (let i = lane; i < ids.length; i += 8) {
        const id = ids[i]!
        const res = await fetch(`${server.url}/v1/stream/orders`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ id }),
        })
        expect(res.status).toBe(204)
        acked.push({ id, offset: res.headers.get('stream-next-offset')! })
      }
    })
    await Promise.all(lanes)
  }
  await Promise.all([appendAll(a, 'a'), appendAll(b, 'b')])

  expect(acked).toHaveLength(2 * perServer)
  // Each acknowledged append ended at its own offset: dense 1..N with no two the same.
  const ends = acked.map((x) => Number(x.offset.split('_')[1])).sort((x, y) => x - y)
  expect(ends).toEqual(Array.from({ length: 2 * perServer }, (_, i) => i + 1))
  const fromA = await readAll(a.url, '/v1/stream/orders')
  const fromB = await readAll(b.url, '/v1/stream/orders')
  expect(fromB).toEqual(fromA)
  const ids = fromA.map((r) => (r as { id: string }).id)
  expect(ids).toHaveLength(2 * perServer)
  expect(new Set(ids)).toEqual(new Set(acked.map((x) => x.id)))
  // And each record sits at the offset its append was acknowledged with.
  for (const { id, offset } of acked) expect(ids[Number(offset.split('_')[1]) - 1]).toBe(id)
})

test('concurrent multi-message appends through two servers never interleave', async () => {
  const [a, b] = servers as [RunningServer, RunningServer]
  await fetch(`${a.url}/v1/stream/batches`, { method: 'PUT', headers: json })
  // Each append is 5 messages, pipelined to JetStream: another server's must not land between.
  const appends = Array.from({ length: 40 }, (_, n) =>
    fetch(`${(n % 2 ? a : b).url}/v1/stream/batches`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify(Array.from({ length: 5 }, (_, i) => ({ n, i }))),
    }),
  )
  for (const res of await Promise.all(appends)) expect(res.status).toBe(204)
  const records = (await readAll(a.url, '/v1/stream/batches')) as { n: number; i: number }[]
  expect(records).toHaveLength(200)
  for (let at = 0; at < 200; at += 5) {
    const n = records[at]!.n
    expect(records.slice(at, at + 5)).toEqual(Array.from({ length: 5 }, (_, i) => ({ n, i })))
  }
})

test('a producer retry sent to the other server is a duplicate, not a second record', async () => {
  const [a, b] = servers as [RunningServer, RunningServer]
  await fetch(`${a.url}/v1/stream/payments`, { method: 'PUT', headers: json })
  const send = (server: RunningServer): Promise<Response> =>
    fetch(`${server.url}/v1/stream/payments`, {
      method: 'POST',
      headers: { ...json, 'producer-id': 'p1', 'producer-epoch': '0', 'producer-seq': '0' },
      body: JSON.stringify({ amount: 5 }),
    })
  const statuses = (await Promise.all([send(a), send(b)])).map((r) => r.status).sort()
  expect(statuses).toEqual([200, 204])
  expect(await readAll(b.url, '/v1/stream/payments')).toEqual([{ amount: 5 }])
})

test('a long-poll on one server wakes for an append made through the other', async () => {
  const [a, b] = servers as [RunningServer, RunningServer]
  await fetch(`${a.url}/v1/stream/events`, { method: 'PUT', headers: json })
  const tail = (await fetch(`${b.url}/v1/stream/events?offset=now`)).headers.get(
    'stream-next-offset',
  )!
  const poll = fetch(`${b.url}/v1/stream/events?offset=${tail}&live=long-poll`)
  await vi.waitFor(() => expect(b.engine.parkedReads).toBe(1), { timeout: 30_000 })
  await fetch(`${a.url}/v1/stream/events`, { method: 'POST', headers: json, body: '{"n":1}' })
  const res = await poll
  expect(res.status).toBe(200)
  expect(await res.json()).toEqual([{ n: 1 }])
})

test('records a dead server published but never committed are adopted, not a stuck stream', async () => {
  const [a, b] = servers as [RunningServer, RunningServer]
  await fetch(`${a.url}/v1/stream/jobs`, { method: 'PUT', headers: json, body: '[{"n":0}]' })
  // What a server that died between publishing and committing leaves: a record past the tail.
  const id = (await fetch(`${a.url}/v1/stream/jobs`, { method: 'HEAD' })).headers
    .get('etag')!
    .split(':')[0]!
  const nc = await connect({ servers: nats.url })
  const h = headers()
  h.set('Duality-Batch-Start', '1')
  h.set('Duality-Timestamp', String(Date.now()))
  h.set('Duality-Producer', JSON.stringify(['dead', 0, 0]))
  await jetstream(nc).publish(`duality.r.${id.slice(1)}`, '{"n":1}', {
    headers: h,
    expect: { lastSequence: 1 },
  })
  await nc.close()
  const res = await fetch(`${b.url}/v1/stream/jobs`, {
    method: 'POST',
    headers: json,
    body: '{"n":2}',
  })
  expect(res.status).toBe(204)
  expect(await readAll(a.url, '/v1/stream/jobs')).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }])
  // The adopted record's producer state came with it: its retry is a duplicate.
  const retry = await fetch(`${a.url}/v1/stream/jobs`, {
    method: 'POST',
    headers: { ...json, 'producer-id': 'dead', 'producer-epoch': '0', 'producer-seq': '0' },
    body: '{"n":1}',
  })
  expect(retry.status).toBe(204)
  expect(await readAll(b.url, '/v1/stream/jobs')).toHaveLength(3)
})

test('an append cut short is fenced and deleted, not adopted: all out, and its retry is new', async () => {
  const [a, b] = servers as [RunningServer, RunningServer]
  await fetch(`${a.url}/v1/stream/cut`, { method: 'PUT', headers: json, body: '[{"n":0}]' })
  const id = (await fetch(`${a.url}/v1/stream/cut`, { method: 'HEAD' })).headers
    .get('etag')!
    .split(':')[0]!
  const subject = `duality.r.${id.slice(1)}`
  // A writer (a dead server's, or a live one stalled) published 2 of an append's 3 records, with
  // the message ids a server gives them.
  const msgId = `${id.slice(1)}:cut:0:0@1`
  const nc = await connect({ servers: nats.url })
  const js = jetstream(nc)
  const publish = (i: number, n: number) => {
    const h = headers()
    h.set('Duality-Timestamp', String(Date.now()))
    if (i === 0) {
      h.set('Duality-Batch-Start', '1')
      h.set('Duality-Batch-Size', '3')
      h.set('Duality-Producer', JSON.stringify(['cut', 0, 0]))
    }
    return js.publish(subject, JSON.stringify({ n }), {
      headers: h,
      msgID: `${msgId}:${i}`,
      expect: { lastSequence: 1 + i, ...(i > 0 && { lastMsgID: `${msgId}:${i - 1}` }) },
    })
  }
  await publish(0, 1)
  await publish(1, 2)
  try {
    const res = await fetch(`${b.url}/v1/stream/cut`, {
      method: 'POST',
      headers: json,
      body: '{"n":9}',
    })
    expect(res.status).toBe(204)
    expect(await readAll(a.url, '/v1/stream/cut')).toEqual([{ n: 0 }, { n: 9 }])
    // The stalled writer cannot finish its append now: the fence took the offset it expected.
    await expect(publish(2, 3)).rejects.toThrow(/wrong last/)
  } finally {
    await nc.close()
  }
  // Its producer's retry was never acknowledged, so it is appended whole, once.
  const retry = await fetch(`${a.url}/v1/stream/cut`, {
    method: 'POST',
    headers: { ...json, 'producer-id': 'cut', 'producer-epoch': '0', 'producer-seq': '0' },
    body: '[{"n":1},{"n":2},{"n":3}]',
  })
  expect(retry.status).toBe(200)
  expect(await readAll(b.url, '/v1/stream/cut')).toEqual([
    { n: 0 },
    { n: 9 },
    { n: 1 },
    { n: 2 },
    { n: 3 },
  ])
})

test('a record NATS could not carry (over max_payload) is refused up front: 413, nothing stored', async () => {
  const [a] = servers as [RunningServer]
  await fetch(`${a.url}/v1/stream/big`, { method: 'PUT', headers: json })
  const big = { n: 1, pad: 'x'.repeat(1024 * 1024) }
  for (const headersOf of [
    {},
    { 'producer-id': 'big', 'producer-epoch': '0', 'producer-seq': '0' },
  ]) {
    const res = await fetch(`${a.url}/v1/stream/big`, {
      method: 'POST',
      headers: { ...json, ...headersOf },
      body: JSON.stringify([{ n: 0 }, big]),
    })
    expect(res.status).toBe(413)
    expect((await res.json()).error.code).toBe('MESSAGE_TOO_LARGE')
  }
  expect(await readAll(a.url, '/v1/stream/big')).toEqual([])
  const ok = await fetch(`${a.url}/v1/stream/big`, {
    method: 'POST',
    headers: json,
    body: '[{"n":0}]',
  })
  expect(ok.status).toBe(204)
  // The same on creation, before any JetStream stream is made for it.
  const nc = await connect({ servers: nats.url })
  const streams = async () => (await (await jetstreamManager(nc)).streams.names().next()).length
  const before = await streams()
  const created = await fetch(`${a.url}/v1/stream/big-at-birth`, {
    method: 'PUT',
    headers: json,
    body: JSON.stringify([big]),
  })
  expect(created.status).toBe(413)
  expect(await streams()).toBe(before)
  await nc.close()
  expect((await fetch(`${a.url}/v1/stream/big-at-birth`, { method: 'HEAD' })).status).toBe(404)
})

test('a read, an append or a clean whose stream another server deletes under it answers 404, not 500', async () => {
  const [a, b] = servers as [RunningServer, RunningServer]
  // Fault injection: a's JetStream calls wait until b has deleted the stream a just loaded.
  const log = (a.engine as unknown as { log: JetStreamLog }).log
  const deleteFirst = <K extends 'readVisible' | 'publish' | 'readAllOwn'>(
    method: K,
    path: string,
  ) => {
    const original = log[method].bind(log) as (...args: unknown[]) => Promise<unknown>
    return vi.spyOn(log, method).mockImplementationOnce((async (...args: unknown[]) => {
      const res = await fetch(`${b.url}${path}`, { method: 'DELETE' })
      expect(res.status).toBe(204)
      return original(...args)
    }) as never)
  }
  const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
  try {
    await fetch(`${a.url}/v1/stream/doomed`, { method: 'PUT', headers: json, body: '[1]' })
    deleteFirst('readVisible', '/v1/stream/doomed')
    expect((await fetch(`${a.url}/v1/stream/doomed?offset=-1`)).status).toBe(404)

    await fetch(`${a.url}/v1/stream/doomed2`, { method: 'PUT', headers: json, body: '[1]' })
    deleteFirst('publish', '/v1/stream/doomed2')
    const append = await fetch(`${a.url}/v1/stream/doomed2`, {
      method: 'POST',
      headers: json,
      body: '[2]',
    })
    expect(append.status).toBe(404)

    await fetch(`${a.url}/admin/topics/doomed`, { method: 'PUT', headers: json, body: '{}' })
    await fetch(`${a.url}/topics/doomed/0`, {
      method: 'POST',
      headers: json,
      body: '[{"value":1}]',
    })
    deleteFirst('readAllOwn', '/admin/topics/doomed')
    const clean = await fetch(`${a.url}/admin/topics/doomed/clean`, { method: 'POST' })
    expect(clean.status).toBe(200)
    expect(errors).not.toHaveBeenCalled()
  } finally {
    errors.mockRestore()
    vi.restoreAllMocks()
  }
})

test('a creation whose metadata write timed out but landed keeps its stream and records', async () => {
  const [a] = servers as [RunningServer]
  const store = (a.engine as unknown as { store: JetStreamMetaStore }).store
  const create = store.create.bind(store)
  vi.spyOn(store, 'create').mockImplementationOnce(async (meta) => {
    await create(meta)
    throw new Error('TIMEOUT') // the answer was lost, not the write
  })
  try {
    const res = await fetch(`${a.url}/v1/stream/landed`, {
      method: 'PUT',
      headers: json,
      body: '[1,2]',
    })
    expect(res.status).toBe(201)
  } finally {
    vi.restoreAllMocks()
  }
  expect(await readAll(a.url, '/v1/stream/landed')).toEqual([1, 2])
  expect(
    (await fetch(`${a.url}/v1/stream/landed`, { method: 'POST', headers: json, body: '[3]' }))
      .status,
  ).toBe(204)
  expect(await readAll(a.url, '/v1/stream/landed')).toEqual([1, 2, 3])
})

test('an append whose metadata commit timed out but landed is acknowledged once', async () => {
  const [a] = servers as [RunningServer]
  await fetch(`${a.url}/v1/stream/slowkv`, { method: 'PUT', headers: json, body: '[0]' })
  const store = (a.engine as unknown as { store: JetStreamMetaStore }).store
  const save = store.save.bind(store)
  vi.spyOn(store, 'save').mockImplementationOnce(async (meta, rev) => {
    await save(meta, rev)
    throw Object.assign(new Error('timeout'), { name: 'TimeoutError' }) // the answer was lost
  })
  try {
    const res = await fetch(`${a.url}/v1/stream/slowkv`, {
      method: 'POST',
      headers: json,
      body: '[1]',
    })
    expect(res.status).toBe(204)
  } finally {
    vi.restoreAllMocks()
  }
  expect(await readAll(a.url, '/v1/stream/slowkv')).toEqual([0, 1])
})

test('a stalled append on a TTL stream is adopted while readers keep touching its entry', async () => {
  const [a, b] = servers as [RunningServer, RunningServer]
  await fetch(`${a.url}/v1/stream/ttl`, {
    method: 'PUT',
    headers: { ...json, 'stream-ttl': '3600' },
    body: '[{"n":0}]',
  })
  const id = (await fetch(`${a.url}/v1/stream/ttl`, { method: 'HEAD' })).headers
    .get('etag')!
    .split(':')[0]!
  // A dead server's whole append (one record) past the committed tail.
  const nc = await connect({ servers: nats.url })
  const h = headers()
  h.set('Duality-Batch-Start', '1')
  h.set('Duality-Batch-Size', '1')
  h.set('Duality-Timestamp', String(Date.now()))
  await jetstream(nc).publish(`duality.r.${id.slice(1)}`, '{"n":1}', {
    headers: h,
    expect: { lastSequence: 1 },
  })
  await nc.close()
  // Every read of a TTL stream saves its entry (last access): four readers, all the time.
  let reading = true
  const readers = Array.from({ length: 4 }, async () => {
    while (reading) await (await fetch(`${b.url}/v1/stream/ttl?offset=-1`)).arrayBuffer()
  })
  try {
    const res = await fetch(`${a.url}/v1/stream/ttl`, {
      method: 'POST',
      headers: json,
      body: '{"n":2}',
    })
    expect(res.status).toBe(204)
  } finally {
    reading = false
    await Promise.all(readers)
  }
  expect(await readAll(a.url, '/v1/stream/ttl')).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }])
})
