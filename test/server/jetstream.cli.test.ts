import { afterAll, beforeAll, expect, test, vi } from 'vitest'
import { startCli, type CliServer } from './support/cliProcess.ts'
import { startNatsServer, type NatsServer } from './support/natsServer.ts'

// Two `duality serve --nats` processes over one JetStream, appended to concurrently.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 })

let nats: NatsServer
let processes: CliServer[] = []

beforeAll(async () => {
  nats = await startNatsServer()
  processes = await Promise.all([0, 1].map(() => startCli(['--nats', nats.url])))
})

afterAll(async () => {
  for (const p of processes) {
    p.child.kill('SIGTERM')
    await p.exited
  }
  await nats?.stop()
})

test('two server processes over one JetStream: one dense order, every acknowledged append once', async () => {
  const json = { 'content-type': 'application/json' }
  const [a, b] = processes as [CliServer, CliServer]
  expect((await fetch(`${a.url}/v1/stream/log`, { method: 'PUT', headers: json })).status).toBe(201)
  // Each process gets its own idempotent producer; the two producers append at the same time.
  const acked = new Map<string, number>()
  await Promise.all(
    [a, b].map(async (server, p) => {
      for (let seq = 0; seq < 40; seq++) {
        const send = async (): Promise<void> => {
          const res = await fetch(`${server.url}/v1/stream/log`, {
            method: 'POST',
            headers: {
              ...json,
              'producer-id': `p${p}`,
              'producer-epoch': '0',
              'producer-seq': String(seq),
            },
            body: JSON.stringify({ p, seq }),
          })
          expect(res.status).toBe(200)
          acked.set(`${p}:${seq}`, Number(res.headers.get('stream-next-offset')!.split('_')[1]))
        }
        // A producer's seqs must arrive in order: one in flight per producer.
        await send()
      }
    }),
  )
  const res = await fetch(`${b.url}/v1/stream/log?offset=-1`)
  const records = (await res.json()) as { p: number; seq: number }[]
  expect(records).toHaveLength(80)
  expect(new Set(records.map((r) => `${r.p}:${r.seq}`))).toEqual(new Set(acked.keys()))
  for (const [key, end] of acked) {
    const r = records[end - 1]!
    expect(`${r.p}:${r.seq}`).toBe(key)
  }
  // Each producer's records are in its own order.
  for (const p of [0, 1]) {
    const seqs = records.filter((r) => r.p === p).map((r) => r.seq)
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y))
  }
})

test('a topic created through one process is appended to through both and described alike', async () => {
  const json = { 'content-type': 'application/json' }
  const [a, b] = processes as [CliServer, CliServer]
  const created = await fetch(`${a.url}/admin/topics/orders`, {
    method: 'PUT',
    headers: json,
    body: JSON.stringify({
      numPartitions: 2,
      configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
    }),
  })
  expect(created.status).toBe(201)
  for (const [i, server] of [a, b, a, b].entries()) {
    const res = await fetch(`${server.url}/topics/orders/1`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify([{ key: 'same', value: i }]),
    })
    expect(res.status).toBe(204)
  }
  const fromB = await (await fetch(`${b.url}/admin/topics/orders`)).json()
  expect(fromB).toEqual(await (await fetch(`${a.url}/admin/topics/orders`)).json())
  expect(fromB.partitions[1]).toMatchObject({ startOffset: 0, nextOffset: 4 })
  const cleaned = await (
    await fetch(`${b.url}/admin/topics/orders/clean`, { method: 'POST' })
  ).json()
  expect(cleaned.partitions[1].removedByCompaction).toBe(3)
  const read = await (await fetch(`${a.url}/topics/orders/1?offset=-1`)).json()
  expect(read).toMatchObject([{ offset: 3, key: 'same', value: 3 }])
})
