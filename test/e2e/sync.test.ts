import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { httpTransport } from '../../src/index.ts'
import { serve, type RunningServer } from '../../src/server/node/index.ts'
import { sqliteServerStorage } from '../../src/server/engines/sqlite/index.ts'
import { startChromium, type ChromiumHarness } from '../support/chromium.ts'

// A real tab syncing with the real server over HTTP: offline sends survive a reload and are
// pushed exactly once when the server can be reached.
let chromium: ChromiumHarness
let server: RunningServer
let dir: string
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'duality-e2e-sync-'))
  server = await serve({ port: 0, storage: sqliteServerStorage({ filename: join(dir, 's.db') }) })
  const created = await fetch(`${server.url}/admin/topics/payments`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ numPartitions: 2 }),
  })
  expect(created.status).toBe(201)
  chromium = await startChromium()
})
afterAll(async () => {
  await chromium?.close()
  await server?.close()
  rmSync(dir, { recursive: true, force: true })
})

test('a tab reloaded with 1,000 pending records pushes all of them, once', async () => {
  const db = `sync-${Date.now()}`
  // Offline: the worker's server is a port nobody listens on.
  const offline = await chromium.open(`sync.html?db=${db}&server=http://127.0.0.1:9`)
  await offline.evaluate(() => window.send(1000))
  await offline.waitForFunction(() => window.sync.getState()?.topics.payments?.pending === 1000)
  // Optimistic view: all 1,000 counted although none is confirmed.
  await offline.waitForFunction(
    () =>
      window.counts
        .getState()
        .all()
        .reduce((n, e) => n + e.value, 0) === 1000,
  )
  expect(
    await offline.evaluate(() => {
      const s = window.counts.getState()
      return { total: s.all().reduce((n, e) => n + e.value, 0), confirmed: s.confirmed.size }
    }),
  ).toEqual({ total: 1000, confirmed: 0 })
  expect(await offline.evaluate(() => window.sync.getState()!.connection)).toBe('offline')

  // Reload, now with the server reachable.
  await offline.goto(
    new URL(`test/e2e/pages/sync.html?db=${db}&server=${server.url}`, chromium.baseUrl).href,
  )
  await offline.waitForFunction(() => (window as { ready?: boolean }).ready === true)
  await offline.waitForFunction(
    () => {
      const s = window.sync.getState()?.topics.payments
      return s?.pending === 0 && s.upToDate
    },
    undefined,
    { timeout: 30_000 },
  )
  const transport = httpTransport({ url: server.url })
  const values: unknown[] = []
  for (const partition of [0, 1]) {
    for (let offset = 0; ;) {
      const chunk = await transport.read('payments', partition, offset, { live: false })
      values.push(...chunk.records.map((r) => JSON.parse(r.value!)))
      if (chunk.upToDate) break
      offset = chunk.nextOffset
    }
  }
  expect(values).toHaveLength(1000)
  expect(new Set(values).size).toBe(1000)
  // The view is now all confirmed, and the same.
  await offline.waitForFunction(() => window.counts.getState().pendingCount === 0)
  expect(
    await offline.evaluate(() =>
      window.counts
        .getState()
        .confirmed.all()
        .reduce((n, e) => n + e.value, 0),
    ),
  ).toBe(1000)
})
