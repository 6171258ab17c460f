// Log.roll, Kafka's UnifiedLog.roll: it closes the active segment so the next append opens a new
// one, and what was written so far becomes cleanable. Kafka's LogCleanerTest rolls before every
// cleaning it checks (testDuplicateCheckAfterCleaning, testSizeTrimmedForPreallocatedAndCompactedTopic:
// "roll the segment, so we can clean the messages already appended"); UnifiedLogTest's
// testTimeBasedLogRoll has "Log doesn't roll if doing so creates an empty segment". Every
// scenario runs on memory storage and on fake-indexeddb.
import 'fake-indexeddb/auto'
import { afterEach, describe, expect, test } from 'vitest'
import { idbStorage } from '../../src/storage/idb/index.ts'
import {
  ClosedError,
  InvalidArgumentError,
  InvalidPartitionsError,
  loadSnapshot,
  MemoryDatabase,
  memoryStorage,
  openLog,
  saveSnapshot,
  UnknownTopicError,
  type Log,
  type LogStorage,
} from '../../src/index.ts'

const T0 = 1_700_000_000_000
let databases = 0

const storages: [string, () => Promise<LogStorage>][] = [
  ['memory', async () => memoryStorage()],
  ['indexeddb', () => idbStorage({ name: `roll-test-${process.pid}-${databases++}` })],
]

type Row = [offset: number, key: string | null, value: unknown]

describe.each(storages)('Log.roll on %s storage', (_kind, makeStorage) => {
  let now = T0
  const logs: Log[] = []

  afterEach(async () => {
    for (const log of logs.splice(0)) await log.close()
    now = T0
  })

  async function open(storage?: LogStorage): Promise<Log> {
    const log = await openLog({
      storage: storage ?? (await makeStorage()),
      cleaner: false,
      clock: () => now,
    })
    logs.push(log)
    return log
  }

  async function topic(
    log: Log,
    name: string,
    config: Record<string, string | number>,
    numPartitions = 1,
  ): Promise<void> {
    await log.admin().createTopics({
      topics: [
        {
          topic: name,
          numPartitions,
          configEntries: Object.entries(config).map(([k, v]) => ({ name: k, value: v })),
        },
      ],
    })
  }

  async function send(
    log: Log,
    name: string,
    records: [string | null, unknown][],
    partition = 0,
  ): Promise<number> {
    const [result] = await log.producer().send({
      topic: name,
      messages: records.map(([key, value]) => ({ key, value, partition })),
    })
    return result!.baseOffset
  }

  async function contents(log: Log, name: string, partition = 0): Promise<Row[]> {
    const offsets = await log.admin().fetchTopicOffsets(name)
    const { low } = offsets.find((o) => o.partition === partition)!
    const { records } = await log.fetch({ topic: name, partition, offset: low })
    return records.map((r) => [r.offset, r.key as string | null, r.value])
  }

  const compaction = async (log: Log, name: string) =>
    (await log.cleaner.run({ topics: [name], force: true })).map((r) => r.compaction)

  test('closes the active segment: what was written becomes compactable', async () => {
    const log = await open()
    await topic(log, 't', { 'cleanup.policy': 'compact' })
    await send(log, 't', [
      ['a', 1],
      ['b', 1],
      ['a', 2],
    ])
    // Everything is in the active segment, which compaction never touches.
    expect(await compaction(log, 't')).toEqual([null])
    expect(await contents(log, 't')).toHaveLength(3)

    expect(await log.roll('t')).toEqual([{ topic: 't', partition: 0, baseOffset: 3, rolled: true }])
    expect(await compaction(log, 't')).toEqual([{ cleanedUpTo: 3, removedRecords: 1 }])
    expect(await contents(log, 't')).toEqual([
      [1, 'b', 1],
      [2, 'a', 2],
    ])
  })

  test('the next append opens a new segment at the log end', async () => {
    const log = await open()
    await topic(log, 't', { 'cleanup.policy': 'compact' })
    await send(log, 't', [
      ['a', 1],
      ['a', 2],
    ])
    await log.roll('t')
    expect(await send(log, 't', [['a', 3]])).toBe(2)
    // The segment boundary is at 2: [0..1] is cleaned, a@1 stays (a@2 is in the active segment,
    // above the cleanable section), and a@2 in the new active segment is untouched.
    expect(await compaction(log, 't')).toEqual([{ cleanedUpTo: 2, removedRecords: 1 }])
    expect(await contents(log, 't')).toEqual([
      [1, 'a', 2],
      [2, 'a', 3],
    ])
    const [p] = await log.admin().fetchTopicOffsets('t')
    expect(p).toMatchObject({ low: 0, high: 3 })
  })

  test('an empty active segment does not roll', async () => {
    const log = await open()
    await topic(log, 't', { 'cleanup.policy': 'compact' })
    // A new topic's active segment is empty.
    expect(await log.roll('t')).toEqual([
      { topic: 't', partition: 0, baseOffset: 0, rolled: false },
    ])
    await send(log, 't', [['a', 1]])
    expect(await log.roll('t')).toEqual([{ topic: 't', partition: 0, baseOffset: 1, rolled: true }])
    // Right after a roll the new active segment is empty: a second roll is a no-op.
    expect(await log.roll('t')).toEqual([
      { topic: 't', partition: 0, baseOffset: 1, rolled: false },
    ])
    await send(log, 't', [['a', 2]])
    expect(await log.roll('t')).toEqual([{ topic: 't', partition: 0, baseOffset: 2, rolled: true }])
    // Two closed segments of one record each: [0] and [1]; cleaning removes a@0 and leaves a@1.
    expect(await compaction(log, 't')).toEqual([{ cleanedUpTo: 2, removedRecords: 1 }])
    expect(await contents(log, 't')).toEqual([[1, 'a', 2]])
  })

  test('without a partition every partition rolls; with one, only that one', async () => {
    const log = await open()
    await topic(log, 't', { 'cleanup.policy': 'compact' }, 3)
    await send(log, 't', [['a', 1]], 0)
    await send(log, 't', [['a', 2]], 0)
    await send(log, 't', [['b', 1]], 2)
    await send(log, 't', [['b', 2]], 2)

    expect(await log.roll('t', 2)).toEqual([
      { topic: 't', partition: 2, baseOffset: 2, rolled: true },
    ])
    expect(await compaction(log, 't')).toEqual([null, null, { cleanedUpTo: 2, removedRecords: 1 }])
    expect(await contents(log, 't', 0)).toHaveLength(2)

    await send(log, 't', [['b', 3]], 2)
    expect(await log.roll('t')).toEqual([
      { topic: 't', partition: 0, baseOffset: 2, rolled: true },
      { topic: 't', partition: 1, baseOffset: 0, rolled: false },
      { topic: 't', partition: 2, baseOffset: 3, rolled: true },
    ])
    expect(await compaction(log, 't')).toEqual([
      { cleanedUpTo: 2, removedRecords: 1 },
      null,
      { cleanedUpTo: 3, removedRecords: 1 },
    ])
    expect(await contents(log, 't', 0)).toEqual([[1, 'a', 2]])
    expect(await contents(log, 't', 2)).toEqual([[2, 'b', 3]])
  })

  test('a rolled segment is expired by retention.ms as a whole, the new records stay', async () => {
    const log = await open()
    await topic(log, 't', { 'cleanup.policy': 'delete', 'retention.ms': 1000 })
    await send(log, 't', [
      ['a', 1],
      ['b', 1],
    ])
    await log.roll('t')
    now = T0 + 1001
    await send(log, 't', [['c', 1]])
    const [report] = await log.cleaner.run({ topics: ['t'] })
    expect(report).toMatchObject({ deletedSegments: 1, logStartOffset: 2 })
    expect(await contents(log, 't')).toEqual([[2, 'c', 1]])
  })

  test('a roll and a send made together both land, offsets dense', async () => {
    const log = await open()
    await topic(log, 't', { 'cleanup.policy': 'compact' })
    await send(log, 't', [['a', 1]])
    const [rolled, offset] = await Promise.all([log.roll('t'), send(log, 't', [['a', 2]])])
    expect(rolled[0]!.rolled).toBe(true)
    expect(offset).toBe(1)
    expect(await send(log, 't', [['a', 3]])).toBe(2)
    expect((await contents(log, 't')).map((r) => r[0])).toEqual([0, 1, 2])
  })

  test('another Log on the same storage appends after a roll it did not see', async () => {
    // Two tabs: the second has cached its partition head, which the first's roll made stale.
    const database = new MemoryDatabase()
    const a = await open(memoryStorage({ database }))
    const b = await open(memoryStorage({ database }))
    await topic(a, 't', { 'cleanup.policy': 'compact' })
    await send(b, 't', [['a', 1]])
    await a.roll('t')
    expect(await send(b, 't', [['a', 2]])).toBe(1)
    expect(await send(a, 't', [['a', 3]])).toBe(2)
    // The roll held: [0] is its own segment, compacted against nothing above it in the
    // cleanable section, and offsets 1 and 2 share the active one.
    expect(await compaction(b, 't')).toEqual([{ cleanedUpTo: 1, removedRecords: 0 }])
    expect((await contents(b, 't')).map((r) => r[0])).toEqual([0, 1, 2])
  })

  describe('bad input is a typed error and rolls nothing', () => {
    test('an unknown topic is an UnknownTopicError', async () => {
      const log = await open()
      await expect(log.roll('nope')).rejects.toBeInstanceOf(UnknownTopicError)
      await expect(log.roll('nope')).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' })
    })

    test('a partition the topic does not have is an InvalidPartitionsError', async () => {
      const log = await open()
      await topic(log, 't', { 'cleanup.policy': 'compact' }, 2)
      await send(log, 't', [
        ['a', 1],
        ['a', 2],
      ])
      for (const partition of [2, -1, 0.5, NaN, '0' as unknown as number]) {
        await expect(log.roll('t', partition)).rejects.toBeInstanceOf(InvalidPartitionsError)
      }
      // Nothing rolled: the records are still in the active segment, out of compaction's reach.
      expect(await compaction(log, 't')).toEqual([null, null])
    })

    test('an invalid topic name is an InvalidArgumentError', async () => {
      const log = await open()
      await expect(log.roll('a/b')).rejects.toBeInstanceOf(InvalidArgumentError)
    })

    test('a topic deleted in another tab is an UnknownTopicError, even when created again', async () => {
      const database = new MemoryDatabase()
      const a = await open(memoryStorage({ database }))
      const b = await open(memoryStorage({ database }))
      await topic(a, 't', { 'cleanup.policy': 'compact' })
      await send(a, 't', [['a', 1]])
      // a has the topic cached; b deletes it and creates another of the same name.
      await b.admin().deleteTopics({ topics: ['t'] })
      await expect(a.roll('t')).rejects.toBeInstanceOf(UnknownTopicError)
      await topic(b, 't', { 'cleanup.policy': 'compact' })
      await send(b, 't', [['x', 1]])
      // a's cache was dropped by the failed roll: it reads the new topic and rolls that one.
      const rolled = await a.roll('t')
      expect(rolled[0]!.rolled).toBe(true)
    })

    test('a closed log is a ClosedError', async () => {
      const log = await open()
      await topic(log, 't', {})
      await log.close()
      await expect(log.roll('t')).rejects.toBeInstanceOf(ClosedError)
    })
  })

  test('a roll and a compaction that drop a tombstone raise tombstonesRemovedTo', async () => {
    // PartitionRow.tombstonesRemovedTo is what makes a store snapshot taken below a removed
    // tombstone unusable (TopicSnapshot's 'behind'): it would hold a key whose deletion can no
    // longer be read. A tombstone that was cleanable only thanks to a roll must raise it too.
    const log = await open()
    await topic(log, 't', { 'cleanup.policy': 'compact', 'delete.retention.ms': 1000 })
    await send(log, 't', [
      ['a', 1],
      ['a', null],
      ['b', 1],
    ])
    // An image of the topic up to offset 1: it holds a=1, whose deletion is at offset 1.
    await saveSnapshot(log, { topic: 't', offsets: [1], label: 'l', entries: [['a', 1, T0]] })
    const head = () => log.storage.read(['partitions'], (tx) => tx.get('partitions', ['t', 0]))

    await log.roll('t')
    // The first cleaning keeps the tombstone and gives it its horizon.
    expect(await compaction(log, 't')).toEqual([{ cleanedUpTo: 3, removedRecords: 1 }])
    expect((await head())!.tombstonesRemovedTo).toBeUndefined()
    expect((await loadSnapshot(log, 't', 'l')).rejected).toBeNull()

    now = T0 + 1000
    expect(await compaction(log, 't')).toEqual([{ cleanedUpTo: 3, removedRecords: 1 }])
    expect(await contents(log, 't')).toEqual([[2, 'b', 1]])
    expect((await head())!.tombstonesRemovedTo).toBe(2)
    expect(await loadSnapshot(log, 't', 'l')).toEqual({ snapshot: null, rejected: 'behind' })
  })
})
