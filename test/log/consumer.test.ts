import { expect, test } from 'vitest'
import {
  memoryStorage,
  openLog,
  type Consumer,
  type Log,
  type LogStorage,
} from '../../src/index.ts'

async function setup(): Promise<Log> {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  await log.admin().createTopics({ topics: [{ topic: 'e', numPartitions: 2 }] })
  await log.producer().send({
    topic: 'e',
    messages: [100, 200, 300, 400].map((timestamp, i) => ({ partition: 0, value: i, timestamp })),
  })
  return log
}

/** Runs a consumer until it has seen `n` messages; returns their [partition, offset, value]. */
async function collect(consumer: Consumer, n: number, act?: () => Promise<void>) {
  const seen: [number, number, unknown][] = []
  let done!: () => void
  const enough = new Promise<void>((r) => (done = r))
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      seen.push([partition, message.offset, message.value])
      if (seen.length === n) done()
    },
  })
  await act?.()
  await enough
  await consumer.stop()
  return seen
}

test('seekToTimestamp, seekToBeginning and seekToEnd rewind and skip (replay)', async () => {
  const log = await setup()
  const c = log.consumer({ groupId: 'g', maxWaitTimeInMs: 20 })
  await c.subscribe({ topics: ['e'] })
  await c.seekToTimestamp(250)
  expect(await collect(c, 2)).toEqual([
    [0, 2, 2],
    [0, 3, 3],
  ])
  await c.seekToBeginning([{ topic: 'e', partition: 0 }])
  expect((await collect(c, 4)).map(([, o]) => o)).toEqual([0, 1, 2, 3])
  await c.seekToEnd()
  const after = await collect(c, 1, async () => {
    await log.producer().send({ topic: 'e', messages: [{ partition: 1, value: 'new' }] })
  })
  expect(after).toEqual([[1, 0, 'new']])
  await log.close()
})

test('without commits or fromBeginning a consumer starts at the end, like auto.offset.reset=latest', async () => {
  const log = await setup()
  const c = log.consumer({ groupId: 'late', maxWaitTimeInMs: 20 })
  await c.subscribe({ topics: ['e'] })
  const seen = await collect(c, 1, async () => {
    await new Promise((r) => setTimeout(r, 30))
    await log.producer().send({ topic: 'e', messages: [{ partition: 0, value: 'fresh' }] })
  })
  expect(seen).toEqual([[0, 4, 'fresh']])
  await log.close()
})

test('eachBatch delivers batches; a failing handler is retried from the first unresolved offset', async () => {
  const log = await setup()
  const c = log.consumer({ groupId: 'b', maxWaitTimeInMs: 20 })
  await c.subscribe({ topics: ['e'], fromBeginning: true })
  const batches: number[][] = []
  let failed = false
  let done!: () => void
  const finished = new Promise<void>((r) => (done = r))
  await c.run({
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset }) => {
      batches.push(batch.messages.map((m) => m.offset))
      for (const m of batch.messages) {
        if (m.offset === 2 && !failed) {
          failed = true
          throw new Error('transient')
        }
        resolveOffset(m.offset)
      }
      if (batch.messages.at(-1)!.offset === 3) done()
    },
  })
  await finished
  await c.stop()
  expect(batches).toEqual([
    [0, 1, 2, 3],
    [2, 3],
  ])
  const committed = await log.admin().fetchOffsets({ groupId: 'b', topics: ['e'] })
  expect(committed[0]!.partitions[0]!.offset).toBe(4)
  await log.close()
})

test('a consumer whose position fell below the log start resets instead of failing', async () => {
  let now = 1_000_000
  const log = await openLog({ storage: memoryStorage(), cleaner: false, clock: () => now })
  await log.admin().createTopics({
    topics: [
      {
        topic: 'r',
        configEntries: [
          { name: 'retention.ms', value: '1000' },
          { name: 'segment.records', value: '2' },
        ],
      },
    ],
  })
  const p = log.producer()
  for (let i = 0; i < 6; i++) await p.send({ topic: 'r', messages: [{ value: i, timestamp: now }] })
  await log
    .admin()
    .setOffsets({ groupId: 'slow', topic: 'r', partitions: [{ partition: 0, offset: 1 }] })
  now += 5000
  await p.send({ topic: 'r', messages: [{ value: 6 }] })
  await log.cleaner.run({ topics: ['r'] })
  expect((await log.admin().fetchTopicOffsets('r'))[0]!.low).toBe(6)
  const c = log.consumer({ groupId: 'slow', maxWaitTimeInMs: 20 })
  await c.subscribe({ topics: ['r'], fromBeginning: true })
  expect(await collect(c, 1)).toEqual([[0, 6, 6]])
  await log.close()
})

test('an append announced while the consumer is fetching is not lost to a long idle wait', async () => {
  // Reads return 50 ms late, so a send can commit (and be announced) while a fetch is under way.
  const base = memoryStorage()
  const slow: LogStorage = {
    kind: base.kind,
    read: async (stores, body) => {
      const result = await base.read(stores, body)
      await new Promise((r) => setTimeout(r, 50))
      return result
    },
    write: base.write.bind(base),
    close: base.close.bind(base),
  }
  const log = await openLog({ storage: slow, cleaner: false })
  await log.admin().createTopics({ topics: [{ topic: 'q' }] })
  const c = log.consumer({ groupId: 'g', maxWaitTimeInMs: 10_000 })
  await c.subscribe({ topics: ['q'], fromBeginning: true })
  const got: unknown[] = []
  await c.run({ eachMessage: async ({ message }) => void got.push(message.value) })
  await new Promise((r) => setTimeout(r, 100))
  const producer = log.producer()
  await producer.send({ topic: 'q', messages: [{ value: 'a' }] })
  // Right after delivering 'a' the consumer looks again and finds nothing (a 50 ms read): 'b'
  // commits, and is announced, during that look.
  while (got.length < 1) await new Promise((r) => setTimeout(r, 1))
  await producer.send({ topic: 'q', messages: [{ value: 'b' }] })
  const start = Date.now()
  while (got.length < 2 && Date.now() - start < 3000) await new Promise((r) => setTimeout(r, 10))
  expect(got).toEqual(['a', 'b'])
  expect(Date.now() - start).toBeLessThan(1000)
  await c.stop()
  await log.close()
})
