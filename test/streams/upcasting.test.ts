import * as v from 'valibot'
import { expect, test } from 'vitest'
import { z } from 'zod'
import {
  defineTopic,
  InvalidRecordError,
  KafkaStreams,
  MemoryDatabase,
  memoryStorage,
  openLog,
  SCHEMA_VERSION_HEADER,
  SchemaVersionError,
  StreamsBuilder,
  type AnyTopicDefinition,
  type Log,
} from '../../src/index.ts'
import { TopologyTestDriver } from '../../src/testing/index.ts'
import { until } from '../support/until.ts'

// Three generations of one topic, as three deploys of an app would have written it:
// v1 amounts in cents, v2 in units with a currency, v3 an amount object.
const v1 = defineTopic({ name: 'payments', schema: v.object({ cents: v.number() }) })
const v2 = defineTopic({
  name: 'payments',
  schema: z.object({ amount: z.number(), currency: z.string() }),
  version: 2,
  upcast: { 1: (p: { cents: number }) => ({ amount: p.cents / 100, currency: 'EUR' }) },
})
const v3 = defineTopic({
  name: 'payments',
  schema: z.object({ amount: z.object({ value: z.number(), currency: z.string() }) }),
  version: 3,
  upcast: {
    ...v2.upcast,
    2: (p: { amount: number; currency: string }) => ({
      amount: { value: p.amount, currency: p.currency },
    }),
  },
})

/** One database, opened by "deploys" of different code in turn, as one browser profile is. */
async function deploys() {
  const database = new MemoryDatabase()
  const open = (...schemas: AnyTopicDefinition[]): Promise<Log> =>
    openLog({ storage: memoryStorage({ database }), cleaner: false, schemas })
  const first = await open()
  await first.admin().createTopics({ topics: [{ topic: 'payments' }, { topic: 'seen' }] })
  return { open, first }
}

/** Writes two records of each version, each by the code of its time. */
async function threeGenerations(open: (...s: AnyTopicDefinition[]) => Promise<Log>, first: Log) {
  // Before the topic had a schema at all: no version header, read as version 1.
  await first
    .producer()
    .send({ topic: 'payments', messages: [{ key: 'EUR', value: { cents: 250 } }] })
  const withV1 = await open(v1)
  await withV1.producer().send({ topic: v1, messages: [{ key: 'EUR', value: { cents: 100 } }] })
  const withV2 = await open(v2)
  await withV2.producer().send({
    topic: v2,
    messages: [
      { key: 'EUR', value: { amount: 4, currency: 'EUR' } },
      { key: 'USD', value: { amount: 10, currency: 'USD' } },
    ],
  })
  const withV3 = await open(v3)
  await withV3.producer().send({
    topic: v3,
    messages: [
      { key: 'USD', value: { amount: { value: 5, currency: 'USD' } } },
      { key: 'EUR', value: { amount: { value: 0.5, currency: 'EUR' } } },
    ],
  })
}

function totals(seen: unknown[]) {
  const builder = new StreamsBuilder()
  builder
    .stream(v3)
    .peek((_, payment) => seen.push(payment))
    // Typed by the schema: an old shape here would be NaN, or a TypeError on `.value`.
    .mapValues((payment) => payment.amount.value)
    .groupByKey()
    .reduce((a, b) => a + b, { materialized: 'totals' })
  return builder.build()
}

test('a topology over a topic of three versions sees only the current shape; stored records stay as written', async () => {
  const { open, first } = await deploys()
  await threeGenerations(open, first)
  const log = await open(v3)
  const seen: unknown[] = []
  const streams = new KafkaStreams(totals(seen), log, { applicationId: 'app', pollMs: 10 })
  await streams.start()
  await until(() => seen.length === 6)
  expect(seen).toEqual([
    { amount: { value: 2.5, currency: 'EUR' } },
    { amount: { value: 1, currency: 'EUR' } },
    { amount: { value: 4, currency: 'EUR' } },
    { amount: { value: 10, currency: 'USD' } },
    { amount: { value: 5, currency: 'USD' } },
    { amount: { value: 0.5, currency: 'EUR' } },
  ])
  await until(() => streams.store('totals').get('EUR') === 8)
  expect(streams.store('totals').get('USD')).toBe(15)
  await streams.close()
  // Never rewritten: each record keeps its own version and its own shape.
  const { records } = await log.read({ topic: 'payments', partition: 0, offset: 0 })
  expect(records.map((r) => r.headers?.[SCHEMA_VERSION_HEADER] ?? null)).toEqual([
    null,
    '1',
    '2',
    '2',
    '3',
    '3',
  ])
  expect(records.slice(0, 3).map((r) => JSON.parse(r.value as string))).toEqual([
    { cents: 250 },
    { cents: 100 },
    { amount: 4, currency: 'EUR' },
  ])
})

test('a consumer reading an old record gets its current shape, with the header naming the version it has now', async () => {
  const { open, first } = await deploys()
  await threeGenerations(open, first)
  const log = await open(v3)
  const { records } = await log.fetch({ topic: 'payments', partition: 0, offset: 1, maxRecords: 1 })
  expect(records[0]!.value).toEqual({ amount: { value: 1, currency: 'EUR' } })
  expect(records[0]!.headers).toEqual({ [SCHEMA_VERSION_HEADER]: '3' })
})

test('a record newer than the code knows stops that consumer with a SchemaVersionError, and only it', async () => {
  const { open, first } = await deploys()
  await threeGenerations(open, first)
  // A newer deploy in another tab writes version 4.
  const v4 = defineTopic({
    name: 'payments',
    schema: z.object({
      amount: z.object({ value: z.number(), currency: z.string() }),
      at: z.string(),
    }),
    version: 4,
    upcast: { ...v3.upcast, 3: (p: object) => ({ ...p, at: '' }) },
  })
  const newer = await open(v4)
  await newer.producer().send({
    topic: v4,
    messages: [{ key: 'EUR', value: { amount: { value: 1, currency: 'EUR' }, at: 'now' } }],
  })
  const old = await open(v3)
  const consumer = old.consumer({ groupId: 'g' })
  const crashed = new Promise<unknown>((resolve) =>
    consumer.on('consumer.crash', ({ payload }) => resolve(payload.error)),
  )
  await consumer.subscribe({ topic: 'payments', fromBeginning: true })
  const delivered: unknown[] = []
  await consumer.run({ eachMessage: async ({ message }) => void delivered.push(message.value) })
  const error = await crashed
  expect(error).toBeInstanceOf(SchemaVersionError)
  expect((error as SchemaVersionError).code).toBe('UNSUPPORTED_SCHEMA_VERSION')
  expect((error as Error).message).toBe(
    'Record payments/0@6 was written with schema version 4, but this code knows "payments" up to version 3: it was written by newer code (reload to get it)',
  )
  // Everything before it was delivered, in the current shape; nothing from it on.
  expect(delivered).toHaveLength(6)
  expect(delivered[0]).toEqual({ amount: { value: 2.5, currency: 'EUR' } })
  expect(old.isClosed).toBe(false)
  await old
    .producer()
    .send({ topic: v3, messages: [{ value: { amount: { value: 1, currency: 'X' } } }] })
  // The newer code reads everything, older versions upcast.
  const all = await newer.fetch({ topic: 'payments', partition: 0, offset: 0 })
  expect(all.records).toHaveLength(8)
  expect(all.records[0]!.value).toEqual({ amount: { value: 2.5, currency: 'EUR' }, at: '' })
})

test('a topology meeting a newer record processes and commits what comes before it, then goes to ERROR with the SchemaVersionError', async () => {
  const { open, first } = await deploys()
  await threeGenerations(open, first)
  await first.producer().send({
    topic: 'payments',
    messages: [
      { key: 'EUR', value: { whatever: true }, headers: { [SCHEMA_VERSION_HEADER]: '9' } },
    ],
  })
  const log = await open(v3)
  const seen: unknown[] = []
  const streams = new KafkaStreams(totals(seen), log, { applicationId: 'app', pollMs: 10 })
  const failed = new Promise<unknown>((resolve) => streams.onError(resolve))
  await streams.start()
  const error = await failed
  expect(error).toBeInstanceOf(SchemaVersionError)
  expect((error as Error).message).toContain('schema version 9')
  expect(streams.currentState).toBe('ERROR')
  expect(seen).toHaveLength(6)
  expect(seen.some((p) => (p as { whatever?: boolean }).whatever)).toBe(false)
  await streams.close()
  const [committed] = await log.admin().fetchOffsets({ groupId: 'app', topics: ['payments'] })
  expect(committed!.partitions[0]!.offset).toBe(6)
})

test('an upcast step that throws is an InvalidRecordError naming the record and the step', async () => {
  const { open, first } = await deploys()
  await first
    .producer()
    .send({ topic: 'payments', messages: [{ key: 'EUR', value: 'not an object' }] })
  const strict = defineTopic({
    name: 'payments',
    schema: z.object({ amount: z.number() }),
    version: 2,
    upcast: {
      1: (p: { cents: number }) => {
        if (typeof p.cents !== 'number') throw new TypeError('no cents')
        return { amount: p.cents / 100 }
      },
    },
  })
  const log = await open(strict)
  const error = await log
    .fetch({ topic: 'payments', partition: 0, offset: 0 })
    .catch((e: unknown) => e)
  expect(error).toBeInstanceOf(InvalidRecordError)
  expect((error as Error).message).toBe(
    'Record payments/0@0: the upcast step from version 1 to 2 of "payments" threw: no cents',
  )
  expect((error as Error).cause).toBeInstanceOf(TypeError)
})

test('the topology test driver upcasts records piped with an older version header, typed by the definition', () => {
  const seen: unknown[] = []
  const driver = new TopologyTestDriver(totals(seen))
  const input = driver.createInputTopic(v3)
  input.pipeInput('EUR', { amount: 4, currency: 'EUR' } as never, 0, {
    [SCHEMA_VERSION_HEADER]: '2',
  })
  input.pipeInput('EUR', { amount: { value: 1, currency: 'EUR' } }, 1)
  input.pipeInput('EUR', { cents: 50 } as never, 2, { [SCHEMA_VERSION_HEADER]: '1' })
  expect(seen).toEqual([
    { amount: { value: 4, currency: 'EUR' } },
    { amount: { value: 1, currency: 'EUR' } },
    { amount: { value: 0.5, currency: 'EUR' } },
  ])
  expect(driver.getKeyValueStore('totals').get('EUR')).toBe(5.5)
  expect(() =>
    input.pipeInput('EUR', { amount: { value: 1, currency: 'EUR' } }, 3, {
      [SCHEMA_VERSION_HEADER]: '4',
    }),
  ).toThrow(SchemaVersionError)
})
