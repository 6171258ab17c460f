import { expect, test } from 'vitest'
import { z } from 'zod'
import {
  defineTopic,
  memoryStorage,
  memoryTransport,
  openLog,
  outboxTopic,
  SCHEMA_VERSION_HEADER,
  SchemaValidationError,
  Sync,
  type Log,
} from '../../src/index.ts'
import { until } from '../support/until.ts'

const PAYMENTS = { topic: 'payments', numPartitions: 1 }
const payments = defineTopic({
  name: 'payments',
  schema: z.object({ amount: z.number(), currency: z.string() }),
  version: 2,
  upcast: { 1: (p: { cents: number }) => ({ amount: p.cents / 100, currency: 'EUR' }) },
})

const count = async (log: Log, topic: string) => (await log.offsets(topic))[0]!.high

test('a synced typed topic: a refused send reaches neither the outbox nor the server; the server copy keeps the version and reads back upcast', async () => {
  const server = await openLog({ storage: memoryStorage(), cleaner: false })
  await server.admin().createTopics({ topics: [PAYMENTS] })
  // Written on the server by an older client: no version header.
  await server
    .producer()
    .send({ topic: 'payments', messages: [{ key: 'a', value: { cents: 250 } }] })
  const log = await openLog({ storage: memoryStorage(), cleaner: false, schemas: [payments] })
  const sync = new Sync(log, {
    transport: memoryTransport(server, { pollMs: 20 }),
    topics: [PAYMENTS],
  })
  await sync.start()
  const producer = sync.producer()
  const error = await producer
    .send({
      topic: payments,
      messages: [{ key: 'b', value: { amount: '1', currency: 'EUR' } as never }],
    })
    .catch((e: unknown) => e)
  expect(error).toBeInstanceOf(SchemaValidationError)
  expect(await count(log, outboxTopic('payments'))).toBe(0)
  await producer.send({
    topic: payments,
    messages: [{ key: 'b', value: { amount: 1, currency: 'USD' } }],
  })
  await until(async () => (await count(log, 'payments')) === 2)
  const onServer = await server.read({ topic: 'payments', partition: 0, offset: 0 })
  expect(onServer.records.map((r) => r.headers?.[SCHEMA_VERSION_HEADER] ?? null)).toEqual([
    null,
    '2',
  ])
  const replica = await log.fetch({ topic: 'payments', partition: 0, offset: 0 })
  expect(replica.records.map((r) => r.value)).toEqual([
    { amount: 2.5, currency: 'EUR' },
    { amount: 1, currency: 'USD' },
  ])
  await sync.stop()
})
