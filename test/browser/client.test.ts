import { expect, test } from 'vitest'
import { uniqueName, workerTabs } from './workerTabs.ts'
import { InvalidPartitionsError, UnknownTopicError, TopicExistsError } from '../../src/index.ts'

// Each worker stands for one tab: its own log over the shared database, as in a real app.
const { tab, spawn } = workerTabs()
const dbName = () => uniqueName('client')

test('the page client sends, fetches and administers through the worker', async () => {
  const client = tab(dbName())
  await client.admin().createTopics({ topics: [{ topic: 'notes', numPartitions: 2 }] })
  const producer = client.producer()
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      producer.send({ topic: 'notes', messages: [{ partition: i % 2, value: { i } }] }),
    ),
  )
  expect(results.filter((r) => r[0]!.partition === 0).map((r) => r[0]!.baseOffset)).toEqual(
    Array.from({ length: 25 }, (_, i) => i),
  )
  const chunk = await client.fetch({ topic: 'notes', partition: 1, offset: 0 })
  expect(chunk.records.map((r) => (r.value as { i: number }).i)).toEqual(
    Array.from({ length: 25 }, (_, i) => 2 * i + 1),
  )
  expect(await client.admin().fetchTopicOffsets('notes')).toEqual([
    { partition: 0, low: 0, high: 25, offset: 25 },
    { partition: 1, low: 0, high: 25, offset: 25 },
  ])
})

test('bad input gives the same typed errors across the boundary as in-process', async () => {
  const client = tab(dbName())
  await client.admin().createTopics({ topics: [{ topic: 't' }] })
  const producer = client.producer()
  const partition = await producer
    .send({ topic: 't', messages: [{ value: 1, partition: 3 }] })
    .catch((e: unknown) => e)
  expect(partition).toBeInstanceOf(InvalidPartitionsError)
  expect((partition as InvalidPartitionsError).code).toBe('INVALID_PARTITIONS')
  const unknown = await producer
    .send({ topic: 'nope', messages: [{ value: 1 }] })
    .catch((e: unknown) => e)
  expect(unknown).toBeInstanceOf(UnknownTopicError)
  const exists = await client
    .admin()
    .createTopics({ topics: [{ topic: 't' }] })
    .catch((e: unknown) => e)
  expect(exists).toBeInstanceOf(TopicExistsError)
  expect((exists as Error).message).toMatch(/already exists/)
  const offset = await client
    .fetch({ topic: 't', partition: 0, offset: -1 })
    .catch((e: unknown) => e)
  expect((offset as { code: string }).code).toBe('INVALID_OFFSET')
  // A bad send in the same task as good ones fails alone.
  const [good, bad] = await Promise.allSettled([
    producer.send({ topic: 't', messages: [{ value: 'ok' }] }),
    producer.send({ topic: 't', messages: [{ value: 'no', partition: 9 }] }),
  ])
  expect(good.status).toBe('fulfilled')
  expect(bad.status).toBe('rejected')
})

test('a record sent in one tab reaches a live consumer in another', async () => {
  const name = dbName()
  const a = tab(name)
  const b = tab(name)
  await a.admin().createTopics({ topics: [{ topic: 'chat', numPartitions: 1 }] })
  const received: unknown[] = []
  let arrived!: () => void
  const arrival = new Promise<void>((r) => (arrived = r))
  const consumer = b.consumer({ groupId: 'b-reader', maxWaitTimeInMs: 10_000 })
  await consumer.subscribe({ topics: ['chat'] })
  await consumer.run({
    eachMessage: async ({ message }) => {
      received.push(message.value)
      arrived()
    },
  })
  // maxWaitTimeInMs is 10 s: only the BroadcastChannel notice can deliver this in time.
  await new Promise((r) => setTimeout(r, 200))
  const sent = performance.now()
  await a.producer().send({ topic: 'chat', messages: [{ value: 'hello from a' }] })
  await arrival
  expect(received).toEqual(['hello from a'])
  expect(performance.now() - sent).toBeLessThan(2000)
  await consumer.stop()
})

test('the background cleaner runs in exactly one tab, and moves when that tab dies', async () => {
  const name = dbName()
  const { worker: first, client: a } = spawn(name)
  await a.admin().listTopics()
  const b = tab(name)
  await b.admin().listTopics()
  const both = async () => [(await a.status()).cleaner, (await b.status()).cleaner]
  const deadline = Date.now() + 3000
  while ((await both()).filter(Boolean).length !== 1 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20))
  }
  expect(await both()).toEqual([true, false])
  first.terminate()
  const start = Date.now()
  while (!(await b.status()).cleaner && Date.now() - start < 3000) {
    await new Promise((r) => setTimeout(r, 20))
  }
  expect((await b.status()).cleaner).toBe(true)
})

test('values cross as JSON text, except those JSON would change, which go as they are', async () => {
  const client = tab(dbName())
  await client.admin().createTopics({ topics: [{ topic: 'mixed' }] })
  const producer = client.producer()
  await producer.send({
    topic: 'mixed',
    messages: [
      { key: 'a', value: { nested: [1, 'two', null] }, headers: { h: 'x' }, timestamp: 5 },
      { key: 'b', value: null },
    ],
  })
  // A Date at the top level is not plain JSON: it travels raw and the worker's JSON serde stores
  // it as JSON would (an ISO string), the same result as an in-process send.
  await producer.send({ topic: 'mixed', messages: [{ key: 'c', value: new Date(0) }] })
  const nan = await producer
    .send({ topic: 'mixed', messages: [{ value: NaN }] })
    .catch((e: unknown) => e)
  expect((nan as { code: string }).code).toBe('INVALID_RECORD')
  const { records } = await client.fetch({ topic: 'mixed', partition: 0, offset: 0 })
  expect(
    records.map((r) => [r.offset, r.key, r.value, r.timestamp === 5 ? 5 : 'now', r.headers]),
  ).toEqual([
    [0, 'a', { nested: [1, 'two', null] }, 5, { h: 'x' }],
    [1, 'b', null, 'now', null],
    [2, 'c', '1970-01-01T00:00:00.000Z', 'now', null],
  ])
})
