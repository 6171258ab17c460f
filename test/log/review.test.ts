import { expect, test } from 'vitest'
import { memoryStorage, openLog, type GroupMembership, type Log } from '../../src/index.ts'

// Regressions for bugs a code review found (each failed before its fix).

async function fresh(): Promise<Log> {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  await log.admin().createTopics({ topics: [{ topic: 'x' }, { topic: 'y' }] })
  return log
}

const values = async (log: Log, topic: string) =>
  (await log.fetch({ topic, partition: 0, offset: 0 })).records.map((r) => [r.offset, r.value])

test('a throwing append listener neither fails the send nor duplicates records', async () => {
  const log = await fresh()
  let calls = 0
  log.onAppend(() => {
    if (calls++ === 0) throw new Error('listener bug')
  })
  const uncaught: unknown[] = []
  const onError = (e: unknown) => uncaught.push(e)
  process.on('uncaughtException', onError)
  try {
    const p = log.producer()
    const sent = await Promise.all([
      p.send({ topic: 'x', messages: [{ value: 'a' }] }),
      p.send({ topic: 'x', messages: [{ value: 'b' }] }),
    ])
    expect(sent.map((s) => s[0]!.baseOffset)).toEqual([0, 1])
    await new Promise((r) => setTimeout(r, 10))
  } finally {
    process.off('uncaughtException', onError)
  }
  expect(await values(log, 'x')).toEqual([
    [0, 'a'],
    [1, 'b'],
  ])
  expect(uncaught.map((e) => (e as Error).message)).toEqual(['listener bug'])
})

test("an encoded value that is not exactly one JSON value is refused, and its neighbours' values are intact", async () => {
  const log = await fresh()
  const p = log.producer()
  const [bad, good] = await Promise.allSettled([
    p.sendEncoded({ topic: 'x', messages: [{ value: '1,2' }] }),
    p.send({ topic: 'x', messages: [{ value: 'mine' }] }),
  ])
  expect(bad.status).toBe('rejected')
  expect(((bad as PromiseRejectedResult).reason as { code: string }).code).toBe('INVALID_RECORD')
  expect(good.status).toBe('fulfilled')
  await expect(p.sendEncoded({ topic: 'x', messages: [{ value: ' null' }] })).rejects.toMatchObject(
    {
      code: 'INVALID_RECORD',
    },
  )
  await p.sendEncoded({ topic: 'x', messages: [{ value: '{"n":1}' }] })
  expect(await values(log, 'x')).toEqual([
    [0, 'mine'],
    [1, { n: 1 }],
  ])
})

test('sends land in the order they were made, even when one must first look its topics up', async () => {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  await log.admin().createTopics({ topics: [{ topic: 'x' }, { topic: 'y' }] })
  const p = log.producer()
  // 'y' is not cached yet in this Log: the first send has to read it from storage.
  const first = p.sendBatch({
    topicMessages: [
      { topic: 'y', messages: [{ value: 1 }] },
      { topic: 'x', messages: [{ value: 'first' }] },
    ],
  })
  const second = p.send({ topic: 'x', messages: [{ value: 'second' }] })
  await Promise.all([first, second])
  expect(await values(log, 'x')).toEqual([
    [0, 'first'],
    [1, 'second'],
  ])
})

test('a crashed consumer leaves its group so that others can take its partitions', async () => {
  const log = await fresh()
  let left = 0
  const membership: GroupMembership = {
    async join({ subscriptions }, handlers) {
      handlers.assigned(subscriptions.map(({ topic }) => ({ topic, partition: 0 })))
      return { leave: async () => void left++ }
    },
  }
  const c = log.consumer({ groupId: 'g', membership, retries: 0, maxWaitTimeInMs: 20 })
  await c.subscribe({ topics: ['x'], fromBeginning: true })
  const crashed = new Promise<void>((r) => c.on('consumer.crash', () => r()))
  await c.run({
    eachMessage: async () => {
      throw new Error('handler bug')
    },
  })
  await log.producer().send({ topic: 'x', messages: [{ value: 1 }] })
  await crashed
  expect(left).toBe(1)
})

test('offsets of a topic deleted behind this Log (another tab) are an UnknownTopicError', async () => {
  const storage = memoryStorage()
  const a = await openLog({ storage, cleaner: false })
  const b = await openLog({ storage, cleaner: false })
  await a.admin().createTopics({ topics: [{ topic: 'gone' }] })
  const c = b.consumer({ groupId: 'g' })
  await c.subscribe({ topics: ['gone'] })
  await a.admin().deleteTopics({ topics: ['gone'] })
  await expect(c.seekToEnd()).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' })
})

test("a custom serde's own error is an InvalidRecordError naming the message", async () => {
  const log = await openLog({
    storage: memoryStorage(),
    cleaner: false,
    serdes: {
      strict: {
        value: {
          serialize: () => {
            throw new Error('no dates please')
          },
          deserialize: (d) => d,
        },
      },
    },
  })
  await log.admin().createTopics({ topics: [{ topic: 'strict' }] })
  const error = await log
    .producer()
    .send({ topic: 'strict', messages: [{ value: 1 }] })
    .catch((e: unknown) => e)
  expect(error).toMatchObject({ code: 'INVALID_RECORD' })
  expect((error as Error).message).toMatch(
    /Message 0 to "strict": its value could not be serialised: no dates please/,
  )
})

test('while running, a consumer may commit only partitions it owns', async () => {
  const log = await fresh()
  const membership: GroupMembership = {
    async join(_member, handlers) {
      handlers.assigned([{ topic: 'x', partition: 0 }])
      return { leave: async () => undefined }
    },
  }
  await log.admin().createTopics({ topics: [{ topic: 'two', numPartitions: 2 }] })
  const c = log.consumer({ groupId: 'g', membership: { ...membership } })
  await c.subscribe({ topics: ['x', 'two'] })
  await c.run({ eachMessage: async () => undefined })
  await c.commitOffsets([{ topic: 'x', partition: 0, offset: 0 }])
  await expect(c.commitOffsets([{ topic: 'two', partition: 1, offset: 5 }])).rejects.toMatchObject({
    code: 'ILLEGAL_GENERATION',
  })
  await c.stop()
  // Stopped, it is no member any more: KafkaJS-style manual commits work again.
  await c.commitOffsets([{ topic: 'two', partition: 1, offset: 5 }])
})
