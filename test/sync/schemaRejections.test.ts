import * as v from 'valibot'
import { afterEach, expect, test } from 'vitest'
import {
  defineTopic,
  httpTransport,
  memoryStorage,
  openLog,
  SCHEMA_VERSION_HEADER,
  Sync,
} from '../../src/index.ts'
import { memoryServerStorage } from '../../src/server/index.ts'
import { serve } from '../../src/server/node/index.ts'
import { until } from '../support/until.ts'

// A synced send to a typed topic whose schema lives on the server (a limit the client does not
// enforce): over real HTTP, the refused record alone becomes a rejection with the schema's code
// and field; the others reach the server, in order.

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

const payments = defineTopic({
  name: 'payments',
  schema: v.object({ amount: v.pipe(v.number(), v.maxValue(500, 'over the limit of 500')) }),
})

async function setup() {
  let appendRequests = 0
  const running = await serve({
    port: 0,
    storage: memoryServerStorage(),
    cleanerIntervalMs: 0,
    schemas: [payments],
  })
  closers.push(() => running.close())
  await running.topics.createTopic('payments', { numPartitions: 1 })
  const transport = httpTransport({
    url: running.url,
    fetch: (input, init) => {
      if (init?.method === 'POST') appendRequests++
      return fetch(input, init)
    },
  })
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  const sync = new Sync(log, {
    transport,
    topics: [{ topic: 'payments', numPartitions: 1 }],
    producerIdPrefix: 'u',
  })
  await sync.start()
  closers.push(async () => {
    await sync.stop()
    await log.close()
  })
  const onServer = async () =>
    (await transport.read('payments', 0, 0, { live: false })).records.map((r) => r.key)
  return { sync, onServer, requests: () => appendRequests }
}

test('the record the server schema refuses becomes a SCHEMA_VALIDATION_FAILED rejection; the rest go on', async () => {
  const { sync, onServer, requests } = await setup()
  await sync.producer().send({
    topic: 'payments',
    messages: [
      { key: 'a', value: { amount: 10 } },
      { key: 'b', value: { amount: 20 } },
      { key: 'big', value: { amount: 900 } },
      { key: 'c', value: { amount: 30 } },
    ],
  })
  await until(async () => (await sync.status()).topics.payments!.pending === 0)
  await until(async () => (await onServer()).length === 3)
  expect(await onServer()).toEqual(['a', 'b', 'c'])
  const rejections = (await sync.status()).topics.payments!.rejections
  expect(rejections).toHaveLength(1)
  const [rejected] = rejections
  expect(rejected).toMatchObject({ offset: 2, key: 'big', value: '{"amount":900}' })
  expect(rejected!.error).toMatchObject({
    code: 'SCHEMA_VALIDATION_FAILED',
    name: 'SchemaValidationError',
    details: { topic: 'payments', field: 'value', issues: [{ path: ['amount'] }] },
  })
  expect(rejected!.error.message).toContain('over the limit of 500')
  // The index named the record, so no search for it: the batch, its valid prefix, then the
  // record leading the rest (refused at index 0: it leaves at once), the rest.
  expect(requests()).toBe(4)
})

test('a version newer than the server knows is a rejection too, not retried forever', async () => {
  const { sync, onServer } = await setup()
  await sync.producer().send({
    topic: 'payments',
    messages: [
      { key: 'new', value: { amount: 1 }, headers: { [SCHEMA_VERSION_HEADER]: '2' } },
      { key: 'ok', value: { amount: 1 } },
    ],
  })
  await until(async () => (await onServer()).length === 1)
  expect(await onServer()).toEqual(['ok'])
  const rejections = (await sync.status()).topics.payments!.rejections
  expect(rejections.map((r) => [r.key, r.error.code])).toEqual([
    ['new', 'UNSUPPORTED_SCHEMA_VERSION'],
  ])
})
