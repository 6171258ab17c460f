import { expect, test } from 'vitest'
import {
  InvalidOffsetError,
  memoryStorage,
  openLog,
  type FollowerRecord,
  type Log,
} from '../../src/index.ts'

async function follower(): Promise<Log> {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  await log.admin().createTopics({
    topics: [
      {
        topic: 'rates',
        numPartitions: 2,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      },
    ],
  })
  return log
}

const rec = (offset: number, key: string, value: unknown): FollowerRecord => ({
  offset,
  key,
  value: JSON.stringify(value),
  timestamp: 1000 + offset,
})

async function all(log: Log, partition: number) {
  const chunk = await log.fetch<unknown, string>({ topic: 'rates', partition, offset: 0 })
  return chunk.records.map((r) => `${r.offset}:${r.key}=${JSON.stringify(r.value)}@${r.timestamp}`)
}

test("a follower keeps the leader's offsets, gaps left by the leader's compaction included", async () => {
  const log = await follower()
  const result = await log.appendAsFollower('rates', 1, [
    rec(0, 'EUR', 1.1),
    rec(2, 'USD', 1),
    rec(5, 'EUR', 1.2),
  ])
  expect(result).toEqual([{ topic: 'rates', partition: 1, baseOffset: 0, logStartOffset: 0 }])
  expect(await all(log, 1)).toEqual(['0:EUR=1.1@1000', '2:USD=1@1002', '5:EUR=1.2@1005'])
  expect((await log.offsets('rates'))[1]).toMatchObject({ low: 0, high: 6 })
  // Reading from inside a gap starts at the next record, as in Kafka.
  const from3 = await log.fetch({ topic: 'rates', partition: 1, offset: 3 })
  expect(from3.records.map((r) => r.offset)).toEqual([5])
  // The follower goes on where the leader goes on.
  await log.appendAsFollower('rates', 1, [rec(9, 'GBP', 0.9)])
  expect((await log.offsets('rates'))[1]!.high).toBe(10)
  await log.close()
})

test('offsets that go back, or below the end, are refused and nothing is written', async () => {
  const log = await follower()
  await log.appendAsFollower('rates', 0, [rec(0, 'a', 1), rec(1, 'b', 2)])
  await expect(log.appendAsFollower('rates', 0, [rec(1, 'c', 3)])).rejects.toThrow(
    InvalidOffsetError,
  )
  await expect(log.appendAsFollower('rates', 0, [rec(4, 'c', 3), rec(3, 'd', 4)])).rejects.toThrow(
    /increasing/,
  )
  expect(await all(log, 0)).toEqual(['0:a=1@1000', '1:b=2@1001'])
  await log.close()
})

test("a group's offsets commit in the same transaction as the copied records", async () => {
  const log = await follower()
  await log.admin().createTopics({ topics: [{ topic: 'outbox' }] })
  await log.appendAsFollower('rates', 0, [rec(0, 'a', 1)], {
    groupId: 'sync',
    offsets: [{ topic: 'outbox', partition: 0, offset: 7 }],
  })
  const [committed] = await log.admin().fetchOffsets({ groupId: 'sync', topics: ['outbox'] })
  expect(committed!.partitions[0]!.offset).toBe(7)
  // A refused copy commits nothing either.
  await expect(
    log.appendAsFollower('rates', 0, [rec(0, 'x', 0)], {
      groupId: 'sync',
      offsets: [{ topic: 'outbox', partition: 0, offset: 9 }],
    }),
  ).rejects.toThrow(InvalidOffsetError)
  const [after] = await log.admin().fetchOffsets({ groupId: 'sync', topics: ['outbox'] })
  expect(after!.partitions[0]!.offset).toBe(7)
  await log.close()
})

test('the cleaner compacts a follower partition like any other, offsets kept', async () => {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  await log.admin().createTopics({
    topics: [
      {
        topic: 'rates',
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          // One record a segment: only closed segments are cleaned, as in Kafka.
          { name: 'segment.records', value: '1' },
        ],
      },
    ],
  })
  await log.appendAsFollower('rates', 0, [
    rec(0, 'EUR', 1),
    rec(3, 'USD', 2),
    rec(4, 'EUR', 3),
    rec(6, 'GBP', 4), // rolls the segment holding EUR@4: the active segment is never cleaned
  ])
  await log.cleaner.run({ force: true })
  const left = await all(log, 0)
  expect(left).toContain('3:USD=2@1003')
  expect(left).toContain('4:EUR=3@1004')
  expect(left).not.toContain('0:EUR=1@1000')
  await log.close()
})
