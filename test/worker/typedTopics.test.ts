import * as v from 'valibot'
import { afterEach, expect, test } from 'vitest'
import {
  defineTopic,
  memoryStorage,
  SchemaValidationError,
  type AnyTopicDefinition,
} from '../../src/index.ts'
import { connect, serve, type Served } from '../../src/worker/index.ts'

const payments = defineTopic({
  name: 'payments',
  schema: v.object({ user: v.string(), amount: v.pipe(v.number(), v.minValue(0)) }),
})

const closers: (() => unknown)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

/** A worker (serve) and a page (connect) over a MessageChannel, each given its own schemas. */
async function open(worker: AnyTopicDefinition[], page: AnyTopicDefinition[]) {
  const { port1, port2 } = new MessageChannel()
  const served = serve({
    name: 'typed',
    storage: memoryStorage(),
    endpoint: port1,
    groups: false,
    cleaner: false,
    topics: [{ topic: 'payments', numPartitions: 2 }],
    schemas: worker,
  })
  const client = connect(port2, { schemas: page })
  const done: Served = await served
  closers.push(async () => {
    client.close()
    port1.close()
    port2.close()
    await done.close()
  })
  return { client, log: done.log }
}

const stored = async (log: Served['log']) =>
  (await log.offsets('payments')).reduce((n, o) => n + o.high, 0)

test('the page refuses a send its schema refuses, before it crosses (the worker here has no schema)', async () => {
  const { client, log } = await open([], [payments])
  const producer = client.producer()
  const [ok, bad] = await Promise.allSettled([
    producer.send({ topic: payments, messages: [{ key: 'a', value: { user: 'ada', amount: 1 } }] }),
    producer.send({
      topic: 'payments',
      messages: [
        { key: 'b', value: { user: 'bob', amount: 2 } },
        { key: 'c', value: { user: 'cy', amount: -3 } },
      ],
    }),
  ])
  expect(ok.status).toBe('fulfilled')
  expect(bad.status).toBe('rejected')
  const error = (bad as PromiseRejectedResult).reason as SchemaValidationError
  expect(error).toBeInstanceOf(SchemaValidationError)
  expect([error.index, error.path]).toEqual([1, ['amount']])
  // The send the page let through was written; none of the refused one was.
  expect(await stored(log)).toBe(1)
})

test('the worker refuses it too when the page has no schema: the typed error crosses with its fields', async () => {
  const { client, log } = await open([payments], [])
  const error = await client
    .producer()
    .send({
      topic: 'payments',
      messages: [
        { key: 'a', value: { user: 'ada', amount: 1 } },
        { key: 'b', value: { user: 7, amount: 1 } },
      ],
    })
    .catch((e: unknown) => e)
  expect(error).toBeInstanceOf(SchemaValidationError)
  const e = error as SchemaValidationError
  expect([e.topic, e.index, e.field, e.path]).toEqual(['payments', 1, 'value', ['user']])
  expect(e.message).toContain('Message 1 to "payments" does not match')
  const viaBatch = await client
    .producer()
    .sendBatch({ topicMessages: [{ topic: 'payments', messages: [{ value: { user: 'x' } }] }] })
    .catch((e: unknown) => e)
  expect(viaBatch).toBeInstanceOf(SchemaValidationError)
  expect(await stored(log)).toBe(0)
  // A valid send goes through and is stamped by the worker.
  await client
    .producer()
    .send({ topic: 'payments', messages: [{ key: 'a', value: { user: 'ada', amount: 1 } }] })
  expect(await stored(log)).toBe(1)
})
