import { expect, test } from 'vitest'
import { uniqueName, workerTabs } from './workerTabs.ts'
import { ConcurrencyError } from '../../src/index.ts'

// Optimistic concurrency through the page client, in real Chromium on real IndexedDB: each
// worker stands for one tab, with its own log over the shared database.
const { tab } = workerTabs()
const dbName = () => uniqueName('occ')

test('a refused expectation arrives in the page as a ConcurrencyError with its fields', async () => {
  const client = tab(dbName())
  await client.admin().createTopics({ topics: [{ topic: 'accounts', numPartitions: 1 }] })
  const producer = client.producer()
  await producer.send({ topic: 'accounts', messages: [{ key: 'alice', value: { open: true } }] })
  // send() crosses as the client's wire and settles as JSON; sendBatch() throws over comlink.
  const viaSend = await producer
    .send({ topic: 'accounts', messages: [{ key: 'alice', value: 1, expectedKeyOffset: -1 }] })
    .catch((e: unknown) => e)
  const viaBatch = await producer
    .sendBatch({
      topicMessages: [
        { topic: 'accounts', messages: [{ key: 'bob', value: 2, expectedOffset: 0 }] },
      ],
    })
    .catch((e: unknown) => e)
  expect(viaSend).toBeInstanceOf(ConcurrencyError)
  expect(viaSend).toMatchObject({
    name: 'ConcurrencyError',
    code: 'WRONG_EXPECTED_OFFSET',
    topic: 'accounts',
    partition: 0,
    key: 'alice',
    expectation: 'keyOffset',
    expected: -1,
    actual: 0,
  })
  expect(viaBatch).toBeInstanceOf(ConcurrencyError)
  expect(viaBatch).toMatchObject({
    topic: 'accounts',
    partition: 0,
    key: 'bob',
    expectation: 'offset',
    expected: 0,
    actual: 1,
  })
  expect(await client.admin().fetchTopicOffsets('accounts')).toMatchObject([{ high: 1 }])
})

test('two tabs racing with the same expectation: exactly one wins, the other learns the offset', async () => {
  const name = dbName()
  const [a, b] = [tab(name), tab(name)]
  await a.admin().createTopics({ topics: [{ topic: 'accounts', numPartitions: 1 }] })
  await a.producer().send({ topic: 'accounts', messages: [{ key: 'alice', value: 0 }] })
  for (let round = 0; round < 5; round++) {
    const expected = round
    const results = await Promise.allSettled(
      [a, b].map((client, i) =>
        client.producer().send({
          topic: 'accounts',
          messages: [{ key: 'alice', value: { round, tab: i }, expectedKeyOffset: expected }],
        }),
      ),
    )
    const won = results.filter((r) => r.status === 'fulfilled')
    const lost = results.filter((r) => r.status === 'rejected')
    expect(won).toHaveLength(1)
    expect(lost).toHaveLength(1)
    expect(lost[0]!.reason).toBeInstanceOf(ConcurrencyError)
    expect(lost[0]!.reason).toMatchObject({ expected, actual: expected + 1 })
  }
  const chunk = await b.fetch({ topic: 'accounts', partition: 0, offset: 0 })
  expect(chunk.records).toHaveLength(6)
})
