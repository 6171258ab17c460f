// Kafka's LogCleanerTest and UnifiedLogTest (formerly LogTest) scenarios, replayed through
// duality's public API alone: openLog, admin(), producer(), fetch/read, roll and cleaner.run, on a
// fake clock. Each test names the Kafka test it follows; the scenario and its expectations come
// from what that test asserts of Kafka, with Kafka's segment sizes replaced by explicit rolls or
// segment.records where duality cannot show its segments. Every scenario runs on memory storage
// and on fake-indexeddb.
import 'fake-indexeddb/auto'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { idbStorage } from '../../src/storage/idb/index.ts'
import {
  memoryStorage,
  OffsetOutOfRangeError,
  openLog,
  type CleanerOptions,
  type Log,
  type LogStorage,
} from '../../src/index.ts'

const T0 = 1_700_000_000_000
const DAY = 24 * 60 * 60 * 1000
let databases = 0

const storages: [string, () => Promise<LogStorage>][] = [
  ['memory', async () => memoryStorage()],
  ['indexeddb', () => idbStorage({ name: `kafka-cleaner-test-${process.pid}-${databases++}` })],
]

type Row = [offset: number, key: string | null, value: unknown]

describe.each(storages)("Kafka's cleaner tests on %s storage", (_kind, makeStorage) => {
  let now = T0
  let log: Log | undefined

  afterEach(async () => {
    await log?.close()
    log = undefined
    now = T0
  })

  async function open(cleaner: CleanerOptions | false = false): Promise<Log> {
    log = await openLog({ storage: await makeStorage(), cleaner, clock: () => now })
    return log
  }

  async function topic(name: string, config: Record<string, string | number>): Promise<void> {
    await log!.admin().createTopics({
      topics: [
        {
          topic: name,
          configEntries: Object.entries(config).map(([k, v]) => ({ name: k, value: v })),
        },
      ],
    })
  }

  /** One send to partition 0; returns the offset of its first record. */
  async function send(
    name: string,
    records: [key: string | null, value: unknown, timestamp?: number][],
  ): Promise<number> {
    const [result] = await log!.producer().send({
      topic: name,
      messages: records.map(([key, value, timestamp]) => ({
        key,
        value,
        partition: 0,
        ...(timestamp === undefined ? {} : { timestamp }),
      })),
    })
    return result!.baseOffset
  }

  async function offsets(name: string): Promise<{ low: number; high: number }> {
    const [p] = await log!.admin().fetchTopicOffsets(name)
    return { low: p!.low, high: p!.high }
  }

  /** Everything readable from the log start offset on. */
  async function contents(name: string): Promise<Row[]> {
    const { records } = await log!.fetch({
      topic: name,
      partition: 0,
      offset: (await offsets(name)).low,
    })
    return records.map((r) => [r.offset, r.key as string | null, r.value])
  }

  const clean = async (name: string) =>
    (await log!.cleaner.run({ topics: [name], force: true }))[0]!

  /** Both reads of a partition refuse the offset as out of range, with the log's error class. */
  async function outOfRange(name: string, offset: number): Promise<void> {
    const at = { topic: name, partition: 0, offset }
    await expect(log!.read(at)).rejects.toBeInstanceOf(OffsetOutOfRangeError)
    await expect(log!.fetch(at)).rejects.toBeInstanceOf(OffsetOutOfRangeError)
    await expect(log!.fetch(at)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' })
  }

  describe('compaction (LogCleanerTest)', () => {
    test('testCleanSegments: the latest value per key survives, at its original offset', async () => {
      await open()
      await topic('t', { 'cleanup.policy': 'compact' })
      // Kafka appends key i with value i into several segments, then cleans with keys 1, 3, 5, 7,
      // 9 superseded. Here the superseding records are real: keys 0..9, then the odd keys again.
      for (let k = 0; k < 10; k++) {
        await send('t', [[`k${k}`, k]])
        if (k % 3 === 2) await log!.roll('t')
      }
      for (const k of [1, 3, 5, 7, 9]) await send('t', [[`k${k}`, k * 100]])
      await log!.roll('t')

      const report = await clean('t')
      expect(report.compaction).toEqual({ cleanedUpTo: 15, removedRecords: 5 })
      // Every survivor kept its offset; the removed ones left gaps, and no offset was reused.
      expect(await contents('t')).toEqual([
        [0, 'k0', 0],
        [2, 'k2', 2],
        [4, 'k4', 4],
        [6, 'k6', 6],
        [8, 'k8', 8],
        [10, 'k1', 100],
        [11, 'k3', 300],
        [12, 'k5', 500],
        [13, 'k7', 700],
        [14, 'k9', 900],
      ])
      // Compaction never moves the log start or the log end.
      expect(await offsets('t')).toEqual({ low: 0, high: 15 })
      expect(await send('t', [['k0', 'next']])).toBe(15)
    })

    test('a read from a removed offset starts at the next survivor (Kafka reads from the next batch)', async () => {
      await open()
      await topic('t', { 'cleanup.policy': 'compact' })
      await send('t', [
        ['a', 1],
        ['b', 1],
        ['a', 2],
        ['b', 2],
        ['c', 1],
      ])
      await log!.roll('t')
      expect((await clean('t')).compaction).toEqual({ cleanedUpTo: 5, removedRecords: 2 })
      for (const offset of [0, 1, 2]) {
        const r = await log!.read({ topic: 't', partition: 0, offset, maxRecords: 1 })
        expect(r.records.map((x) => x.offset)).toEqual([2])
        expect(r.logStartOffset).toBe(0)
      }
      const r = await log!.read({ topic: 't', partition: 0, offset: 3 })
      expect(r.records.map((x) => x.offset)).toEqual([3, 4])
    })

    test('testCleaningWithDeletes: a tombstone removes its key; it goes only after delete.retention.ms', async () => {
      await open()
      await topic('t', { 'cleanup.policy': 'compact', 'delete.retention.ms': 1000 })
      // Kafka: keys 0..N, then a delete of every even key; after cleaning no even key is left.
      await send('t', [
        ['k0', 0],
        ['k1', 1],
        ['k2', 2],
        ['k3', 3],
      ])
      await send('t', [
        ['k0', null],
        ['k2', null],
      ])
      await log!.roll('t')
      // The first cleaning removes what the tombstones delete and keeps the tombstones: a reader
      // that saw k0 and k2 must still learn of their deletion (KIP-534: the delete horizon starts
      // at this cleaning, delete.retention.ms from now).
      expect((await clean('t')).compaction).toEqual({ cleanedUpTo: 6, removedRecords: 2 })
      expect(await contents('t')).toEqual([
        [1, 'k1', 1],
        [3, 'k3', 3],
        [4, 'k0', null],
        [5, 'k2', null],
      ])
      // One ms before the horizon the tombstones are still there.
      now = T0 + 999
      await clean('t')
      expect((await contents('t')).map((r) => r[0])).toEqual([1, 3, 4, 5])
      // At the horizon they go: no even key is left, not even as a tombstone.
      now = T0 + 1000
      expect((await clean('t')).compaction).toEqual({ cleanedUpTo: 6, removedRecords: 2 })
      expect(await contents('t')).toEqual([
        [1, 'k1', 1],
        [3, 'k3', 3],
      ])
      expect(await offsets('t')).toEqual({ low: 0, high: 6 })
    })
  })

  describe('retention (UnifiedLogTest)', () => {
    test('shouldDeleteSizeBasedSegments: retention.bytes deletes the oldest segment, the log start moves', async () => {
      await open()
      // Kafka: segments of 5 records, retention.bytes of 10 records, 15 records appended: one of
      // the 3 segments goes. Values of 1,000 bytes make a record's size what its value is, within
      // the few bytes of framing that are less than half a segment.
      const value = 'x'.repeat(1000)
      await topic('t', {
        'cleanup.policy': 'delete',
        'segment.records': 5,
        'retention.bytes': 10 * 1000,
      })
      for (let i = 0; i < 15; i++) await send('t', [[`k${i}`, value]])
      expect(await clean('t')).toMatchObject({ deletedSegments: 1, logStartOffset: 5 })
      expect(await offsets('t')).toEqual({ low: 5, high: 15 })
      await outOfRange('t', 0)
      await outOfRange('t', 4)
      const r = await log!.fetch({ topic: 't', partition: 0, offset: 5 })
      expect(r.records.map((m) => m.offset)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14])
      // What is left is within the limit: a second run deletes nothing.
      expect(await clean('t')).toMatchObject({ deletedSegments: 0, logStartOffset: 5 })
    })

    test('shouldDeleteTimeBasedSegmentsReadyToBeDeleted: retention.ms deletes segments whose newest record is older', async () => {
      await open()
      await topic('t', { 'cleanup.policy': 'delete', 'retention.ms': 10_000, 'segment.records': 5 })
      // Kafka stamps the records in the past, so every segment is ready to be deleted, the
      // active one included: all go, and the log is empty at the same end.
      for (let i = 0; i < 15; i++) await send('t', [[`k${i}`, i, T0 - 10_001]])
      expect(await clean('t')).toMatchObject({ deletedSegments: 3, logStartOffset: 15 })
      expect(await offsets('t')).toEqual({ low: 15, high: 15 })
      await outOfRange('t', 0)
      await outOfRange('t', 14)
      // Offsets are not reused: the next record continues at the log end.
      expect(await send('t', [['k', 'new']])).toBe(15)
    })

    test('retention.ms looks at the newest record of a segment: a segment with one young record stays', async () => {
      await open()
      await topic('t', { 'cleanup.policy': 'delete', 'retention.ms': 10_000, 'segment.records': 3 })
      await send('t', [
        ['a', 1, T0 - 20_000],
        ['b', 1, T0 - 20_000],
        ['c', 1, T0 - 20_000],
      ])
      await send('t', [
        ['d', 1, T0 - 20_000],
        ['e', 1, T0],
        ['f', 1, T0 - 20_000],
      ])
      await send('t', [['g', 1]])
      expect(await clean('t')).toMatchObject({ deletedSegments: 1, logStartOffset: 3 })
      await outOfRange('t', 2)
      expect((await contents('t')).map((r) => r[0])).toEqual([3, 4, 5, 6])
    })

    test('testReadOutOfRange: below the log start and past the log end are out of range, the end itself is not', async () => {
      await open()
      await topic('t', { 'cleanup.policy': 'delete', 'retention.ms': 1000 })
      await send('t', [
        ['a', 1],
        ['b', 1],
      ])
      await outOfRange('t', 3)
      now = T0 + 1001
      await clean('t')
      await outOfRange('t', 1)
      await outOfRange('t', 3)
      const r = await log!.fetch({ topic: 't', partition: 0, offset: 2 })
      expect(r).toMatchObject({ records: [], nextOffset: 2, highWatermark: 2, logStartOffset: 2 })
    })
  })

  describe('segment.bytes (UnifiedLogTest.testSizeBasedLogRoll)', () => {
    // Kafka rolls before an append that would take the active segment past segment.bytes
    // (UnifiedLog.maybeRoll), so a segment passes it only when a single record is bigger. The
    // boundaries show in what compaction may clean: everything below the active segment.
    test('a record that would not fit starts a new segment', async () => {
      await open()
      await topic('t', { 'cleanup.policy': 'compact', 'segment.bytes': 1024 })
      // Each of these records is stored in 400-odd bytes: two fit in 1024, three do not.
      const value = 'x'.repeat(400)
      for (let i = 0; i < 6; i++) await send('t', [['a', `${i}${value}`]])
      // Segments [0, 1], [2, 3] and the active [4, 5]: offsets below 4 are cleanable.
      expect((await clean('t')).compaction).toEqual({ cleanedUpTo: 4, removedRecords: 3 })
      expect((await contents('t')).map((r) => r[0])).toEqual([3, 4, 5])
    })

    test('a record bigger than segment.bytes has a segment to itself', async () => {
      await open()
      await topic('t', { 'cleanup.policy': 'compact', 'segment.bytes': 1024 })
      await send('t', [['a', 'small']])
      await send('t', [['a', 'x'.repeat(2000)]])
      await send('t', [['a', 'small again']])
      // [0], [1] (past segment.bytes, alone) and the active [2].
      expect((await clean('t')).compaction).toEqual({ cleanedUpTo: 2, removedRecords: 1 })
      expect((await contents('t')).map((r) => r[0])).toEqual([1, 2])
    })
  })

  describe('an idle segment (testTimeBasedLogRoll, without the append)', () => {
    // Kafka rolls a segment segment.ms old on the next append (UnifiedLogTest.testTimeBasedLogRoll),
    // and never cleans the active segment: a topic nobody writes to keeps its tail uncleaned. A
    // browser's log may go quiet for days, so duality's cleaner makes that roll itself.
    test('a compacted topic is compacted once its active segment is segment.ms old, with no send', async () => {
      await open()
      await topic('t', { 'cleanup.policy': 'compact', 'segment.ms': 1000 })
      await send('t', [
        ['a', 1],
        ['b', 1],
        ['a', 2],
      ])
      now = T0 + 999
      expect((await clean('t')).compaction).toBeNull()
      expect(await contents('t')).toHaveLength(3)
      now = T0 + 1000
      expect((await clean('t')).compaction).toEqual({ cleanedUpTo: 3, removedRecords: 1 })
      expect(await contents('t')).toEqual([
        [1, 'b', 1],
        [2, 'a', 2],
      ])
      // The next send lands in the new active segment, where it belongs.
      expect(await send('t', [['a', 3]])).toBe(3)
    })

    test("an idle topic's tombstone goes delete.retention.ms after the cleaning that rolled it", async () => {
      await open()
      await topic('t', {
        'cleanup.policy': 'compact',
        'segment.ms': DAY,
        'delete.retention.ms': DAY,
      })
      await send('t', [
        ['a', 1],
        ['a', null],
      ])
      now = T0 + DAY
      expect((await clean('t')).compaction).toEqual({ cleanedUpTo: 2, removedRecords: 1 })
      expect(await contents('t')).toEqual([[1, 'a', null]])
      now = T0 + 2 * DAY
      expect((await clean('t')).compaction).toEqual({ cleanedUpTo: 2, removedRecords: 1 })
      expect(await contents('t')).toEqual([])
      expect(await offsets('t')).toEqual({ low: 0, high: 2 })
    })

    test('compact,delete: an idle segment is compacted, then expired by retention.ms', async () => {
      await open()
      await topic('t', {
        'cleanup.policy': 'compact,delete',
        'segment.ms': 1000,
        'retention.ms': 5000,
      })
      await send('t', [
        ['a', 1],
        ['a', 2],
        ['b', 1],
      ])
      now = T0 + 1000
      expect(await clean('t')).toMatchObject({
        deletedSegments: 0,
        logStartOffset: 0,
        compaction: { cleanedUpTo: 3, removedRecords: 1 },
      })
      now = T0 + 5001
      expect(await clean('t')).toMatchObject({ deletedSegments: 1, logStartOffset: 3 })
      await outOfRange('t', 1)
      expect(await offsets('t')).toEqual({ low: 3, high: 3 })
    })

    test('an empty active segment never rolls, however old', async () => {
      await open()
      await topic('t', { 'cleanup.policy': 'compact', 'segment.ms': 1000 })
      now = T0 + 10 * DAY
      expect((await clean('t')).compaction).toBeNull()
      // Its age starts with its first record: a record now is not in a segment already too old.
      await send('t', [
        ['a', 1],
        ['a', 2],
      ])
      expect((await clean('t')).compaction).toBeNull()
      now += 1000
      expect((await clean('t')).compaction).toEqual({ cleanedUpTo: 2, removedRecords: 1 })
    })

    test('the background cleaner rolls and compacts an idle topic by itself', async () => {
      await open({ intervalMs: 20 })
      await topic('t', { 'cleanup.policy': 'compact', 'segment.ms': 1000 })
      await send('t', [
        ['a', 1],
        ['a', 2],
      ])
      now = T0 + 1000
      await vi.waitFor(async () => expect(await contents('t')).toEqual([[1, 'a', 2]]), {
        timeout: 5000,
        interval: 20,
      })
    })
  })
})
