import { afterAll, beforeAll, expect, test, vi } from 'vitest'
import { formatOffset } from '../../src/protocol/index.ts'
import type { RunningServer } from '../../src/server/node/index.ts'
import { startNatsServer, type NatsServer } from './support/natsServer.ts'
import { startJetStreamServers } from './support/testServer.ts'

// JetStream refusing writes for a reason other than another server's revision (here: its store
// is full) must surface at once, not be retried as if another server had won the write.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 })

let nats: NatsServer
let server: RunningServer
beforeAll(async () => {
  nats = await startNatsServer({ maxFileStore: '2MB' })
  ;[server] = (await startJetStreamServers(nats.url, 1, {}, { cleanerIntervalMs: 0 })) as [
    RunningServer,
  ]
})
afterAll(async () => {
  await server?.close()
  await nats?.stop()
})

const json = { 'content-type': 'application/json' }

test('a full JetStream store: appends and topic creations answer 507 at once, and nothing spins', async () => {
  expect(
    (await fetch(`${server.url}/v1/stream/full`, { method: 'PUT', headers: json })).status,
  ).toBe(201)
  // Quiet, but checked: each 507 must be logged once, with JetStream's own error (10023,
  // JSInsufficientResourcesErr), so the operator sees the store is full and why.
  const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
  const logged = () =>
    errors.mock.calls.map(([text, error]) => {
      const { name, message, code } = error as { name: string; message: string; code: unknown }
      return [text, name, message, code]
    })
  const full = [
    'duality server: storage full',
    'JetStreamApiError',
    'insufficient resources',
    10023,
  ]
  try {
    let status = 0
    let acknowledged = 0
    for (let i = 0; i < 100 && status !== 507; i++) {
      const res = await fetch(`${server.url}/v1/stream/full`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify(['x'.repeat(100_000)]),
        signal: AbortSignal.timeout(10_000),
      })
      status = res.status
      if (status === 507) expect((await res.json()).error.code).toBe('QUOTA_EXCEEDED')
      else expect(status).toBe(204)
      if (status === 204) acknowledged++
    }
    expect(status).toBe(507)
    expect(logged()).toEqual([full])
    // Before, the claim's KV write was retried as a conflict forever: the request never ended.
    const created = await fetch(`${server.url}/admin/topics/later`, {
      method: 'PUT',
      headers: json,
      body: '{}',
      signal: AbortSignal.timeout(10_000),
    })
    expect(created.status).toBe(507)
    // What was acknowledged is all there; the refused appends left nothing.
    const head = await fetch(`${server.url}/v1/stream/full`, { method: 'HEAD' })
    expect(head.headers.get('stream-next-offset')).toBe(formatOffset(acknowledged))
    expect(logged()).toEqual([full, full])
  } finally {
    errors.mockRestore()
  }
})
