import * as v from 'valibot'
import { afterEach, expect, test } from 'vitest'
import { z } from 'zod'
import { defineTopic, InvalidConfigError, SCHEMA_VERSION_HEADER } from '../../src/index.ts'
import { createApp, memoryServerStorage } from '../../src/server/index.ts'
import { serve } from '../../src/server/node/index.ts'

// The server checks appends to typed topics against their schemas, over real HTTP: a record that
// does not match refuses the whole batch with a 400 naming it; nothing of the batch is written;
// topics without a schema are not touched.

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

// v1 had `cents`; v2 has `amount` (in euros), at most 500.
const payments = defineTopic({
  name: 'payments',
  schema: v.object({ user: v.string(), amount: v.pipe(v.number(), v.maxValue(500)) }),
  version: 2,
  upcast: { 1: (p: { user: string; cents: number }) => ({ user: p.user, amount: p.cents / 100 }) },
})

// An async schema (a refinement that awaits), as Standard Schema allows.
const orders = defineTopic({
  name: 'orders',
  schema: z.object({ sku: z.string() }).refine(async (o) => o.sku !== 'banned', {
    message: 'banned sku',
    path: ['sku'],
  }),
  key: z.string().startsWith('o-'),
})

async function server() {
  const running = await serve({
    port: 0,
    storage: memoryServerStorage(),
    cleanerIntervalMs: 0,
    schemas: [payments, orders],
  })
  closers.push(() => running.close())
  for (const topic of ['payments', 'orders', 'plain']) {
    await running.topics.createTopic(topic, { numPartitions: 1 })
  }
  const append = (topic: string, records: unknown) =>
    fetch(`${running.url}/topics/${topic}/0`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(records),
    })
  const fetchRaw = (topic: string, body: string) =>
    fetch(`${running.url}/topics/${topic}/0`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body,
    })
  const stored = async (topic: string) => {
    const res = await fetch(`${running.url}/topics/${topic}/0?offset=-1`)
    return ((await res.json()) as { value: unknown }[]).map((r) => r.value)
  }
  return { append, fetchRaw, stored }
}

const v2 = { [SCHEMA_VERSION_HEADER]: '2' }

test('a record the schema refuses: 400 with the code, its index and field path; nothing written', async () => {
  const { append, stored } = await server()
  const res = await append('payments', [
    { key: 'a', value: { user: 'ann', amount: 12 }, headers: v2 },
    { key: 'b', value: { user: 'bob', amount: 900 }, headers: v2 },
    { key: 'c', value: { user: 'cy', amount: 3 }, headers: v2 },
  ])
  expect(res.status).toBe(400)
  expect(res.headers.get('content-type')).toContain('application/json')
  const body = (await res.json()) as {
    error: {
      code: string
      message: string
      details: { index: number; field: string; issues: { path: unknown[] }[] }
    }
  }
  expect(body.error.code).toBe('SCHEMA_VALIDATION_FAILED')
  expect(body.error.message).toContain('Message 1 to "payments"')
  expect(body.error.message).toContain('value.amount')
  expect(body.error.details).toMatchObject({ topic: 'payments', index: 1, field: 'value' })
  expect(body.error.details.issues[0]!.path).toEqual(['amount'])
  expect(await stored('payments')).toEqual([])

  // The valid ones alone go through, stored as sent.
  expect(
    (await append('payments', [{ key: 'a', value: { user: 'ann', amount: 12 }, headers: v2 }]))
      .status,
  ).toBe(204)
  expect(await stored('payments')).toEqual([{ user: 'ann', amount: 12 }])
})

test('an older version is upcast before it is checked, and stored as sent; a newer one is refused', async () => {
  const { append, stored } = await server()
  // No header is version 1: 30000 cents upcast to 300 is within the limit, 90000 is not.
  expect(
    (await append('payments', [{ key: 'a', value: { user: 'ann', cents: 30_000 } }])).status,
  ).toBe(204)
  const over = await append('payments', [{ key: 'b', value: { user: 'bob', cents: 90_000 } }])
  expect(over.status).toBe(400)
  expect(((await over.json()) as { error: { code: string } }).error.code).toBe(
    'SCHEMA_VALIDATION_FAILED',
  )
  expect(await stored('payments')).toEqual([{ user: 'ann', cents: 30_000 }])

  const newer = await append('payments', [
    { key: 'c', value: { user: 'cy', amount: 1 }, headers: v2 },
    { key: 'd', value: { user: 'di', amount: 1 }, headers: { [SCHEMA_VERSION_HEADER]: '3' } },
  ])
  expect(newer.status).toBe(400)
  const body = (await newer.json()) as { error: { code: string; message: string } }
  expect(body.error.code).toBe('UNSUPPORTED_SCHEMA_VERSION')
  expect(body.error.message).toContain('Message 1 to "payments"')
  expect(await stored('payments')).toHaveLength(1)
})

test('async schemas and key schemas are checked too', async () => {
  const { append, stored } = await server()
  const banned = await append('orders', [{ key: 'o-1', value: { sku: 'banned' } }])
  expect(banned.status).toBe(400)
  const body = (await banned.json()) as { error: { code: string; details: { field: string } } }
  expect(body.error).toMatchObject({
    code: 'SCHEMA_VALIDATION_FAILED',
    details: { field: 'value' },
  })
  const badKey = await append('orders', [{ key: 'x-1', value: { sku: 'ok' } }])
  expect(badKey.status).toBe(400)
  expect(
    ((await badKey.json()) as { error: { details: { field: string } } }).error.details.field,
  ).toBe('key')
  expect((await append('orders', { key: 'o-2', value: { sku: 'ok' } })).status).toBe(204)
  expect(await stored('orders')).toEqual([{ sku: 'ok' }])
})

test('a topic without a schema is not touched; the engine still refuses what it always did', async () => {
  const { append, fetchRaw, stored } = await server()
  expect(
    (await append('plain', [{ key: 'a', value: { amount: 900 } }, { value: 'x' }])).status,
  ).toBe(204)
  expect(await stored('plain')).toEqual([{ amount: 900 }, 'x'])
  // Not JSON at all: the engine's content-type refusal, whatever the bytes.
  const octets = await fetchRaw('payments', '{"key":"a","value":{"amount":900}}')
  expect(octets.status).toBe(409)
  // Not a topic record: the engine's own 400, not the schema's.
  const bad = await append('payments', [42])
  expect(bad.status).toBe(400)
  expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('INVALID_RECORD')
})

test('a topic defined twice is a config error at start', () => {
  expect(() =>
    createApp({ storage: memoryServerStorage(), schemas: [payments, payments] }),
  ).toThrow(InvalidConfigError)
})
