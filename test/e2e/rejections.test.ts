import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import * as v from 'valibot'
import { defineTopic } from '../../src/index.ts'
import type { RunningServer } from '../../src/server/node/index.ts'
import { policyServer } from '../support/policyServer.ts'
import { startChromium, type ChromiumHarness } from '../support/chromium.ts'

// Real tabs syncing with the real server over HTTP, one test per reason the server refuses a send
// for good: the send leaves the outbox as a rejection every tab's sync store shows (with the
// server's reason), the view drops it, the records beside it go through, and it stays listed
// (across reloads) until the app dismisses it.
let chromium: ChromiumHarness
const servers: RunningServer[] = []
beforeAll(async () => {
  chromium = await startChromium()
})
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close()
})
afterAll(async () => {
  await chromium?.close()
})

async function server(options: {
  configEntries?: { name: string; value: string }[]
  appends?: boolean
  schemas?: Parameters<typeof policyServer>[0]['schemas']
}) {
  const { running, policy } = await policyServer({ numPartitions: 2, ...options })
  policy.appends = options.appends !== false
  servers.push(running)
  return running
}

const tab = async (db: string, url: string) => {
  const page = await chromium.open(`sync.html?db=${db}&server=${url}&token=t`)
  await page.waitForFunction(() => window.ready === true)
  return page
}

type Page = Awaited<ReturnType<typeof tab>>

/** The page's rejections of `payments`: outbox offset aside, key, value text and reason code. */
const rejections = (page: Page) =>
  page.evaluate(() =>
    (window.sync.getState()?.topics.payments?.rejections ?? []).map((r) => ({
      key: r.key,
      value: r.value,
      code: r.error.code,
      message: r.error.message,
    })),
  )

/** Waits until the page lists `count` rejections with nothing pending. */
const settled = (page: Page, count: number) =>
  page.waitForFunction(
    (count) => {
      const s = window.sync.getState()?.topics.payments
      return s !== undefined && s.rejections.length === count && s.pending === 0 && s.upToDate
    },
    count,
    { timeout: 20_000 },
  )

test('403 (authorize refuses the append): every tab lists it, the view drops it, dismiss clears it everywhere', async () => {
  const running = await server({ appends: false })
  const db = `rej403-${Date.now()}`
  const a = await tab(db, running.url)
  const b = await tab(db, running.url)
  await a.evaluate(() => window.sendMessages([{ key: 'bob', value: 1 }]))
  await a.waitForFunction(() => window.sync.getState()?.topics.payments?.rejections.length === 1)
  expect(await rejections(a)).toEqual([
    {
      key: 'bob',
      value: '1',
      code: 'TOPIC_AUTHORIZATION_FAILED',
      message: expect.stringContaining('u may not append payments'),
    },
  ])
  // Not pending, not in the view (its optimistic count rolled back), in tab A and tab B alike.
  for (const page of [a, b]) {
    await page.waitForFunction(
      () =>
        window.sync.getState()?.topics.payments?.rejections.length === 1 &&
        window.sync.getState()?.topics.payments?.pending === 0 &&
        !window.counts.getState().isPending('bob') &&
        window.counts.getState().get('bob') === undefined,
    )
  }
  // The sync store also carries the browser's word on the origin's storage.
  const storage = await a.evaluate(() => window.sync.getState()!.storage)
  expect(storage.quota).toBeGreaterThan(0)
  expect(typeof storage.persisted).toBe('boolean')
  await b.evaluate(() => window.sync.dismiss('payments'))
  await a.waitForFunction(() => window.sync.getState()?.topics.payments?.rejections.length === 0)
  expect(await rejections(b)).toEqual([])
})

test('400 (a keyless record on a compacted topic): only it is refused, the rest reach the server and the view', async () => {
  const running = await server({ configEntries: [{ name: 'cleanup.policy', value: 'compact' }] })
  const db = `rej400-${Date.now()}`
  const a = await tab(db, running.url)
  await a.evaluate(() =>
    window.sendMessages([
      { key: 'ann', value: 1 },
      { key: null, value: 2 },
    ]),
  )
  await settled(a, 1)
  expect(await rejections(a)).toEqual([
    { key: null, value: '2', code: 'INVALID_RECORD', message: expect.any(String) },
  ])
  await a.waitForFunction(
    () =>
      window.counts.getState().confirmed.get('ann') === 1 &&
      window.counts.getState().pendingCount === 0,
  )
})

test('413 (larger than the topic allows): refused, and still listed after a reload until dismissed', async () => {
  const running = await server({ configEntries: [{ name: 'max.message.bytes', value: '300' }] })
  const db = `rej413-${Date.now()}`
  const a = await tab(db, running.url)
  await a.evaluate(() =>
    window.sendMessages([
      { key: 'cat', value: 'x'.repeat(1000) },
      { key: 'cat', value: 'small' },
    ]),
  )
  await settled(a, 1)
  const refused = await rejections(a)
  expect(refused.map((r) => [r.key, r.code, r.value!.length])).toEqual([
    ['cat', 'MESSAGE_TOO_LARGE', 1002],
  ])
  await a.waitForFunction(() => window.counts.getState().confirmed.get('cat') === 1)

  await a.reload()
  await a.waitForFunction(() => window.ready === true)
  await a.waitForFunction(() => window.sync.getState()?.topics.payments?.rejections.length === 1)
  expect(await rejections(a)).toEqual(refused)
  await a.evaluate(() => window.sync.dismiss('payments'))
  await a.waitForFunction(() => window.sync.getState()?.topics.payments?.rejections.length === 0)
})

test("400 from the server's schema (a typed topic): the record it names is refused with the schema's message, the rest go through", async () => {
  const payments = defineTopic({
    name: 'payments',
    schema: v.pipe(v.number(), v.maxValue(100, 'over the limit of 100')),
  })
  const running = await server({ schemas: [payments] })
  const db = `rejschema-${Date.now()}`
  const a = await tab(db, running.url)
  await a.evaluate(() =>
    window.sendMessages([
      { key: 'dan', value: 5 },
      { key: 'dan', value: 500 },
      { key: 'dan', value: 7 },
    ]),
  )
  await settled(a, 1)
  expect(await rejections(a)).toEqual([
    {
      key: 'dan',
      value: '500',
      code: 'SCHEMA_VALIDATION_FAILED',
      message: expect.stringContaining('over the limit of 100'),
    },
  ])
  await a.waitForFunction(() => window.counts.getState().confirmed.get('dan') === 2)
})
