import { afterEach, expect, test } from 'vitest'
import { SCHEMA_VERSION_HEADER, SchemaValidationError } from '../../src/index.ts'
import { connect, type Client } from '../../src/worker/index.ts'
import { payments } from './typedTopic.ts'

// Real Chromium, a real worker, IndexedDB: the typed worker serves `payments` at version 3; an
// untyped worker on the same database stands for the app's older deploys.
const workers: Worker[] = []
afterEach(() => {
  for (const w of workers.splice(0)) w.terminate()
})
const dbName = () => `typed-${Date.now()}-${Math.random().toString(36).slice(2)}`

function typedTab(name: string, withSchemas: boolean): Client {
  const worker = new Worker(new URL('./typedWorker.ts', import.meta.url), { type: 'module', name })
  workers.push(worker)
  return connect(worker, withSchemas ? { schemas: [payments] } : {})
}

function untypedTab(name: string): Client {
  const url = new URL('../../worker/duality.worker.ts', import.meta.url)
  const worker = new Worker(url, { type: 'module', name })
  workers.push(worker)
  return connect(worker)
}

async function count(client: Client): Promise<number> {
  const [p] = await client.admin().fetchTopicOffsets('payments')
  return p!.high
}

test('an invalid send is refused in the page and in the worker with its index and path; nothing is written', async () => {
  const name = dbName()
  const page = typedTab(name, true)
  const bare = typedTab(name, false)
  const good = { key: 'a', value: { amount: { value: 1, currency: 'EUR' } } }
  const bad = { key: 'b', value: { amount: { value: 'one', currency: 'EUR' } } }
  await page.producer().send({ topic: payments, messages: [good] })
  for (const client of [page, bare]) {
    const error = await client
      .producer()
      .send({ topic: 'payments', messages: [good, good, bad] })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SchemaValidationError)
    const e = error as SchemaValidationError
    expect([e.topic, e.index, e.field, e.path]).toEqual([
      'payments',
      2,
      'value',
      ['amount', 'value'],
    ])
  }
  expect(await count(page)).toBe(1)
})

test('records of versions 1, 2 and 3 in IndexedDB read back in the current shape, stored as written', async () => {
  const name = dbName()
  const page = typedTab(name, true)
  await page.admin().fetchTopicOffsets('payments') // the typed worker has created the topic
  const old = untypedTab(name)
  await old.producer().send({
    topic: 'payments',
    messages: [
      { key: 'a', value: { cents: 250 } },
      {
        key: 'a',
        value: { amount: 4, currency: 'USD' },
        headers: { [SCHEMA_VERSION_HEADER]: '2' },
      },
    ],
  })
  await page.producer().send({
    topic: payments,
    messages: [{ key: 'a', value: { amount: { value: 1, currency: 'EUR' } } }],
  })
  const typed = await page.fetch({ topic: 'payments', partition: 0, offset: 0 })
  expect(typed.records.map((r) => r.value)).toEqual([
    { amount: { value: 2.5, currency: 'EUR' } },
    { amount: { value: 4, currency: 'USD' } },
    { amount: { value: 1, currency: 'EUR' } },
  ])
  const raw = await old.fetch({ topic: 'payments', partition: 0, offset: 0 })
  expect(raw.records.map((r) => [r.headers?.[SCHEMA_VERSION_HEADER] ?? null, r.value])).toEqual([
    [null, { cents: 250 }],
    ['2', { amount: 4, currency: 'USD' }],
    ['3', { amount: { value: 1, currency: 'EUR' } }],
  ])
})
