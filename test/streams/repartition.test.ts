import { expect, test } from 'vitest'
import {
  JoinWindows,
  KafkaStreams,
  keyPartition,
  memoryStorage,
  openLog,
  StreamsBuilder,
  TopologyError,
  UnknownTopicError,
  type Log,
} from '../../src/index.ts'
import { TopologyTestDriver } from '../../src/testing/index.ts'

async function logWith(topics: Record<string, number>): Promise<Log> {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  const specs = Object.entries(topics).map(([topic, numPartitions]) => ({ topic, numPartitions }))
  if (specs.length > 0) await log.admin().createTopics({ topics: specs })
  return log
}

async function readAll(log: Log, topic: string) {
  const out: { partition: number; key: string | null; value: unknown }[] = []
  for (const { partition, high } of await log.admin().fetchTopicOffsets(topic)) {
    const chunk = await log.fetch<unknown, string>({
      topic,
      partition,
      offset: 0,
      maxRecords: high,
    })
    for (const r of chunk.records) out.push({ partition, key: r.key, value: r.value })
  }
  return out
}

async function until(check: () => Promise<boolean>) {
  for (let i = 0; i < 400; i++) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 5))
  }
  throw new Error('timed out')
}

/** Counts orders per customer id (a number), after re-keying through a repartition topic. */
function perCustomer(partitions?: number) {
  const builder = new StreamsBuilder()
  builder
    .stream<string, { customer: number }>('orders')
    .selectKey((_, order) => order.customer)
    .repartition({ name: 'by-customer', ...(partitions ? { numberOfPartitions: partitions } : {}) })
    .groupByKey()
    .count({ materialized: 'orders-per-customer' })
    .toStream()
    .to('counts')
  return builder.build()
}

test('in the test driver, records go through the repartition topic and come back at once', () => {
  const driver = new TopologyTestDriver(perCustomer())
  const orders = driver.createInputTopic<string, { customer: number }>('orders')
  orders.pipeInput('o1', { customer: 7 }, 1)
  orders.pipeInput('o2', { customer: 8 }, 2)
  orders.pipeInput('o3', { customer: 7 }, 3)
  expect(driver.createOutputTopic('counts').readKeyValuesToList()).toEqual([
    { key: 7, value: 1 },
    { key: 8, value: 1 },
    { key: 7, value: 2 },
  ])
  // Internal topics are not outputs.
  expect(driver.createOutputTopic('by-customer-repartition').isEmpty()).toBe(true)
})

test('over the log, a repartition topic is created for the application and partitioned by the new key', async () => {
  const log = await logWith({ orders: 2, counts: 1 })
  await log.producer().send({
    topic: 'orders',
    messages: Array.from({ length: 40 }, (_, i) => ({
      key: `o${i}`,
      value: { customer: i % 5 },
      partition: i % 2,
      timestamp: i,
    })),
  })
  const streams = new KafkaStreams(perCustomer(3), log, { applicationId: 'shop', pollMs: 5 })
  await streams.start()
  const store = streams.store<number, number>('orders-per-customer')
  await until(async () => store.get(4) === 8 && store.approximateNumEntries() === 5)
  expect(store.all()).toEqual([0, 1, 2, 3, 4].map((key) => ({ key, value: 8 })))
  const [meta] = (
    await log.admin().fetchTopicMetadata({ topics: ['shop-by-customer-repartition'] })
  ).topics
  expect(meta!.partitions).toHaveLength(3)
  const repartitioned = await readAll(log, 'shop-by-customer-repartition')
  expect(repartitioned).toHaveLength(40)
  for (const r of repartitioned) {
    // Same partition as any Kafka producer would pick for that key; the typed key rides along.
    expect(r.partition).toBe(keyPartition(r.key!, 3))
    expect(r.value).toMatchObject({ key: Number(r.key) })
  }
  await streams.close()
})

test('a join of topics with different partition counts is refused with a TopologyError', async () => {
  const log = await logWith({ clicks: 3, users: 2, views: 2 })
  const tableJoin = new StreamsBuilder()
  tableJoin
    .stream('clicks')
    .join(tableJoin.table('users'), (c, u) => [c, u])
    .to('out')
  const streams = new KafkaStreams(tableJoin.build(), log, { applicationId: 'a' })
  const error = await streams.start().catch((e: unknown) => e)
  expect(error).toBeInstanceOf(TopologyError)
  expect((error as Error).message).toContain('clicks (3 partitions)')
  expect((error as Error).message).toContain('users (2 partitions)')

  const streamJoin = new StreamsBuilder()
  streamJoin
    .stream('views')
    .join(streamJoin.stream('clicks'), (v, c) => [v, c], JoinWindows.ofTimeDifferenceWithNoGrace(5))
    .to('out')
  const other = new KafkaStreams(streamJoin.build(), log, { applicationId: 'b' })
  await expect(other.start()).rejects.toThrow(TopologyError)
})

test('a repartition topic joined with a table takes its partition count; re-keyed inputs need none', async () => {
  const log = await logWith({ clicks: 3, users: 2 })
  const builder = new StreamsBuilder()
  builder
    .stream<string, { user: string }>('clicks')
    .selectKey((_, c) => c.user)
    .repartition({ name: 'by-user' })
    .join(builder.table<string, string>('users'), (c, name) => `${name}:${JSON.stringify(c)}`)
    .to('named-clicks')
  const streams = new KafkaStreams(builder.build(), log, { applicationId: 'r' })
  await streams.start()
  const [meta] = (await log.admin().fetchTopicMetadata({ topics: ['r-by-user-repartition'] }))
    .topics
  expect(meta!.partitions).toHaveLength(2)
  await streams.close()

  // Kafka would repartition after a key change by itself; duality's single task needs no topic,
  // and neither kind of input is held to co-partitioning.
  const rekeyed = new StreamsBuilder()
  rekeyed
    .stream<string, { user: string }>('clicks')
    .groupBy((_, c) => c.user)
    .count()
    .join(rekeyed.table<string, string>('users'), (n, name) => `${name}=${n}`)
    .toStream()
    .to('out')
  const ok = new KafkaStreams(rekeyed.build(), log, { applicationId: 'k' })
  await ok.start()
  expect(ok.currentState).toBe('RUNNING')
  await ok.close()
})

test('a missing input topic fails start with its name', async () => {
  const log = await logWith({})
  const builder = new StreamsBuilder()
  builder.stream('nowhere').to('out')
  const streams = new KafkaStreams(builder.build(), log, { applicationId: 'm' })
  const error = await streams.start().catch((e: unknown) => e)
  expect(error).toBeInstanceOf(UnknownTopicError)
  expect((error as Error).message).toContain('nowhere')
})

test('to() with a partitioner puts each record in the partition it picks', async () => {
  const log = await logWith({ orders: 1, 'by-size': 3 })
  const builder = new StreamsBuilder()
  builder
    .stream<string, { qty: number }>('orders')
    .to('by-size', { partitioner: (_key, order, n) => Math.min(order.qty, n - 1) })
  const streams = new KafkaStreams(builder.build(), log, { applicationId: 'p', pollMs: 5 })
  await streams.start()
  await log.producer().send({
    topic: 'orders',
    messages: [0, 1, 2, 7].map((qty, i) => ({ key: `o${i}`, value: { qty } })),
  })
  await until(async () => (await readAll(log, 'by-size')).length === 4)
  const placed = (await readAll(log, 'by-size')).map((r) => `${r.key}@${r.partition}`).sort()
  expect(placed).toEqual(['o0@0', 'o1@1', 'o2@2', 'o3@2'])
  await streams.close()
})
