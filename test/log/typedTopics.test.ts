import * as v from 'valibot'
import { expect, expectTypeOf, test } from 'vitest'
import { z } from 'zod'
import {
  defineTopic,
  errorFromJSON,
  InvalidConfigError,
  memoryStorage,
  openLog,
  SCHEMA_VERSION_HEADER,
  SchemaValidationError,
  type AnyTopicDefinition,
  type Log,
  type StandardSchemaV1,
  type TopicDefinition,
} from '../../src/index.ts'

const valibotPayments = defineTopic({
  name: 'payments',
  schema: v.object({ user: v.string(), amount: v.number() }),
})

const zodOrders = defineTopic({
  name: 'orders',
  schema: z.object({
    id: z.string(),
    items: z.array(z.object({ sku: z.string(), price: z.number().positive() })),
  }),
  key: z.string().uuid(),
})

async function logWith(...schemas: AnyTopicDefinition[]): Promise<Log> {
  const log = await openLog({ storage: memoryStorage(), cleaner: false, schemas })
  await log.admin().createTopics({
    topics: ['payments', 'orders', 'plain'].map((topic) => ({ topic, numPartitions: 2 })),
  })
  return log
}

async function stored(log: Log, topic: string): Promise<number> {
  const offsets = await log.offsets(topic)
  return offsets.reduce((n, o) => n + o.high, 0)
}

test('a valibot topic takes valid sends, stamped with the schema version', async () => {
  const log = await logWith(valibotPayments)
  await log.producer().send({
    topic: valibotPayments,
    messages: [{ key: 'a', value: { user: 'ada', amount: 3.5 }, partition: 0 }],
  })
  const { records } = await log.read({ topic: 'payments', partition: 0, offset: 0 })
  expect(records).toHaveLength(1)
  expect(records[0]!.headers).toEqual({ [SCHEMA_VERSION_HEADER]: '1' })
  expect(JSON.parse(records[0]!.value as string)).toEqual({ user: 'ada', amount: 3.5 })
})

test('a valibot topic refuses a send with one bad message: index and path named, nothing written', async () => {
  const log = await logWith(valibotPayments)
  const send = log.producer().send({
    topic: 'payments',
    messages: [
      { key: 'a', value: { user: 'ada', amount: 1 } },
      { key: 'b', value: { user: 'bob', amount: 2 } },
      { key: 'c', value: { user: 'cy', amount: 'three' } },
    ],
  })
  const error = await send.catch((e: unknown) => e)
  expect(error).toBeInstanceOf(SchemaValidationError)
  const e = error as SchemaValidationError
  expect(e.code).toBe('SCHEMA_VALIDATION_FAILED')
  expect(e.topic).toBe('payments')
  expect(e.index).toBe(2)
  expect(e.field).toBe('value')
  expect(e.path).toEqual(['amount'])
  expect(e.message).toMatch(
    /^Message 2 to "payments" does not match the topic's schema \(value\.amount: /,
  )
  expect(e.message).toContain('nothing of the send was written')
  expect(await stored(log, 'payments')).toBe(0)
})

test('a zod topic names a nested path, and a bad message in one topic of a sendBatch writes no topic', async () => {
  const log = await logWith(valibotPayments, zodOrders)
  const key = crypto.randomUUID()
  const error = await log
    .producer()
    .sendBatch({
      topicMessages: [
        { topic: 'payments', messages: [{ key: 'a', value: { user: 'ada', amount: 1 } }] },
        { topic: 'plain', messages: [{ value: 'anything' }] },
        {
          topic: 'orders',
          messages: [
            { key, value: { id: 'o1', items: [{ sku: 's', price: 2 }] } },
            {
              key,
              value: {
                id: 'o2',
                items: [
                  { sku: 's', price: 2 },
                  { sku: 't', price: -1 },
                ],
              },
            },
          ],
        },
      ],
    })
    .catch((e: unknown) => e)
  expect(error).toBeInstanceOf(SchemaValidationError)
  const e = error as SchemaValidationError
  expect([e.topic, e.index, e.field]).toEqual(['orders', 1, 'value'])
  expect(e.path).toEqual(['items', 1, 'price'])
  expect(e.message).toContain('value.items.1.price: ')
  for (const topic of ['payments', 'plain', 'orders']) expect(await stored(log, topic)).toBe(0)
})

test("a key schema checks keys: a bad key is refused naming field 'key'", async () => {
  const log = await logWith(zodOrders)
  const error = await log
    .producer()
    .send({ topic: zodOrders, messages: [{ key: 'not-a-uuid', value: { id: 'o', items: [] } }] })
    .catch((e: unknown) => e)
  expect(error).toBeInstanceOf(SchemaValidationError)
  expect((error as SchemaValidationError).field).toBe('key')
  expect((error as SchemaValidationError).index).toBe(0)
  expect(await stored(log, 'orders')).toBe(0)
})

test("the schema's output is what is written (zod defaults and coercion), tombstones skip it", async () => {
  const counters = defineTopic({
    name: 'plain',
    schema: z.object({ n: z.coerce.number(), unit: z.string().default('each') }),
  })
  const log = await logWith(counters)
  await log.producer().send({
    topic: 'plain',
    messages: [
      { key: 'k', value: { n: '7' }, partition: 1 },
      { key: 'k', value: null, partition: 1 },
    ],
  })
  const { records } = await log.fetch({ topic: 'plain', partition: 1, offset: 0 })
  expect(records.map((r) => r.value)).toEqual([{ n: 7, unit: 'each' }, null])
})

test('an async schema (zod async refinement) is awaited before anything is written', async () => {
  const taken = new Set(['ada'])
  const users = defineTopic({
    name: 'plain',
    schema: z.object({
      name: z.string().refine(async (name) => !taken.has(name), { message: 'name taken' }),
    }),
  })
  const log = await logWith(users)
  const producer = log.producer()
  await producer.send({ topic: users, messages: [{ value: { name: 'bob' } }] })
  const error = await producer
    .send({ topic: users, messages: [{ value: { name: 'cy' } }, { value: { name: 'ada' } }] })
    .catch((e: unknown) => e)
  expect(error).toBeInstanceOf(SchemaValidationError)
  expect((error as SchemaValidationError).issues).toEqual([
    { message: 'name taken', path: ['name'] },
  ])
  expect(await stored(log, 'plain')).toBe(1)
})

test("the JSON text path (a page's wire) is validated too: sendEncoded's values are parsed for the schema", async () => {
  const log = await logWith(valibotPayments)
  const error = await log
    .producer()
    .sendEncoded(
      { topic: 'payments', messages: [{ key: 'a', value: '{"user":"ada","amount":"1"}' }] },
      { checked: true },
    )
    .catch((e: unknown) => e)
  expect(error).toBeInstanceOf(SchemaValidationError)
  expect((error as SchemaValidationError).path).toEqual(['amount'])
  expect(await stored(log, 'payments')).toBe(0)
  await log.producer().sendEncoded({
    topic: 'payments',
    messages: [{ key: 'a', value: '{"user":"ada","amount":1}' }],
  })
  expect(await stored(log, 'payments')).toBe(1)
})

test('a send naming a definition the log was not given is validated by that definition', async () => {
  const log = await logWith()
  const error = await log
    .producer()
    .send({ topic: valibotPayments, messages: [{ value: { user: 1, amount: 1 } as never }] })
    .catch((e: unknown) => e)
  expect(error).toBeInstanceOf(SchemaValidationError)
  expect((error as SchemaValidationError).path).toEqual(['user'])
})

test('SchemaValidationError keeps its fields through its JSON form (the worker and page boundary)', () => {
  const error = SchemaValidationError.of({
    topic: 't',
    index: 4,
    field: 'value',
    issues: [{ message: 'Expected number', path: ['a', 0] }],
  })
  const back = errorFromJSON(JSON.parse(JSON.stringify(error.toJSON())))
  expect(back).toBeInstanceOf(SchemaValidationError)
  expect(back.message).toBe(error.message)
  const b = back as SchemaValidationError
  expect([b.topic, b.index, b.field, b.path]).toEqual(['t', 4, 'value', ['a', 0]])
})

test('defineTopic refuses a version without an upcast step from each older one, and a non-schema', () => {
  const schema = v.object({ n: v.number() })
  expect(() =>
    defineTopic({ name: 't', schema, version: 3, upcast: { 1: (x: unknown) => x } }),
  ).toThrow(
    new InvalidConfigError(
      'Topic "t" is at version 3 but has no upcast step from version 2 (upcast[2]: v2 => v3)',
    ),
  )
  expect(() => defineTopic({ name: 't', schema, version: 0 })).toThrow(InvalidConfigError)
  expect(() => defineTopic({ name: 't', schema: {} as StandardSchemaV1 })).toThrow(
    /not a Standard Schema v1/,
  )
})

test('types follow the schema: definitions carry the output type, sends are checked against it', async () => {
  expectTypeOf(valibotPayments).toEqualTypeOf<
    TopicDefinition<{ user: string; amount: number }, string>
  >()
  expectTypeOf(zodOrders).toEqualTypeOf<
    TopicDefinition<{ id: string; items: { sku: string; price: number }[] }, string>
  >()
  const log = await logWith(valibotPayments)
  await log
    .producer()
    .send({
      topic: valibotPayments,
      // @ts-expect-error amount must be a number by the schema's type
      messages: [{ value: { user: 'ada', amount: 'x' } }],
    })
    .catch(() => undefined)
  expect(await stored(log, 'payments')).toBe(0)
})
