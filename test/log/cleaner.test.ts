// Retention and compaction scenarios, after Kafka's LogCleanerTest and LogTest: each test builds a
// log with known segment boundaries (segment.records) on a fake clock and asserts exact offsets,
// keys and values. Every scenario runs on memory storage and on fake-indexeddb.
import 'fake-indexeddb/auto'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { idbStorage } from '../../src/storage/idb/index.ts'
import {
  defaultTopicConfig,
  InvalidConfigError,
  InvalidRecordError,
  memoryStorage,
  openLog,
  type CleanerOptions,
  type Log,
  type LogStorage,
} from '../../src/index.ts'

const T0 = 1_700_000_000_000
let databases = 0

const storages: [string, () => Promise<LogStorage>][] = [
  ['memory', async () => memoryStorage()],
  ['indexeddb', () => idbStorage({ name: `cleaner-test-${process.pid}-${databases++}` })],
]

type Row = [offset: number, key: string | null, value: unknown]

describe.each(storages)('cleaner on %s storage', (_kind, makeStorage) => {
  let now = T0
  let log: Log | undefined

  beforeEach(() => {
    now = T0
  })

  afterEach(async () => {
    await log?.close()
    log = undefined
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

  /** Appends `[key, value]` pairs to partition 0 in one send; returns the first offset. */
  async function send(name: string, records: [string | null, unknown][]): Promise<number> {
    const result = await log!.producer().send({
      topic: name,
      messages: records.map(([key, value]) => ({ key, value, partition: 0 })),
    })
    expect(result).toHaveLength(1)
    return result[0]!.baseOffset
  }

  /** Everything readable in partition 0, from the log start offset on. */
  async function contents(name: string): Promise<Row[]> {
    const { low } = await offsets(name)
    const { records } = await log!.fetch({ topic: name, partition: 0, offset: low })
    return records.map((r) => [r.offset, r.key as string | null, r.value])
  }

  async function offsets(name: string): Promise<{ low: number; high: number }> {
    const [p] = await log!.admin().fetchTopicOffsets(name)
    return { low: p!.low, high: p!.high }
  }

  const clean = (name: string, force = true) => log!.cleaner.run({ topics: [name], force })

  const report = (
    name: string,
    deletedSegments: number,
    logStartOffset: number,
    compaction: { cleanedUpTo: number; removedRecords: number } | null,
  ) => [{ topic: name, partition: 0, deletedSegments, logStartOffset, compaction }]

  const outOfRange = (name: string, offset: number) =>
    expect(log!.read({ topic: name, partition: 0, offset })).rejects.toMatchObject({
      code: 'OFFSET_OUT_OF_RANGE',
    })

  describe('compaction', () => {
    test('keeps the latest record per key, at its original offset', async () => {
      await open()
      await topic('t', { 'cleanup.policy': 'compact', 'segment.records': 3 })
      // Segments [0..2] [3..5] and the active [6].
      await send('t', [
        ['a', 1],
        ['b', 1],
        ['a', 2],
      ])
      await send('t', [
        ['c', 1],
        ['b', 2],
        ['a', 3],
      ])
      await send('t', [['d', 1]])

      expect(await clean('t')).toEqual(report('t', 0, 0, { cleanedUpTo: 6, removedRecords: 3 }))
      expect(await contents('t')).toEqual([
        [3, 'c', 1],
        [4, 'b', 2],
        [5, 'a', 3],
        [6, 'd', 1],
      ])
      expect(await offsets('t')).toEqual({ low: 0, high: 7 })

      // Nothing new to clean: no compaction, nothing changes.
      expect(await clean('t')).toEqual(report('t', 0, 0, null))
      expect(await contents('t')).toHaveLength(4)
      // Offsets are never reused.
      expect(await send('t', [['a', 4]])).toBe(7)
    })

    test('a read from a removed offset starts at the next existing one', async () => {
      await open()
      await topic('t', { 'cleanup.policy': 'compact', 'segment.records': 2 })
      await send('t', [
        ['a', 1],
        ['a', 2],
        ['a', 3],
        ['a', 4],
        ['b', 1],
      ])
      // Segment [0..1] loses both records, [2..3] keeps only offset 3.
      expect(await clean('t')).toEqual(report('t', 0, 0, { cleanedUpTo: 4, removedRecords: 3 }))

      for (const offset of [0, 1, 2, 3]) {
        const r = await log!.fetch({ topic: 't', partition: 0, offset })
        expect(r.records.map((m) => [m.offset, m.key, m.value])).toEqual([
          [3, 'a', 4],
          [4, 'b', 1],
        ])
        expect(r.nextOffset).toBe(5)
      }
      const one = await log!.read({ topic: 't', partition: 0, offset: 1, maxRecords: 1 })
      expect(one.records.map((r) => r.offset)).toEqual([3])
      expect(one.nextOffset).toBe(4)
      // Compaction never moves the log start offset.
      expect(one.logStartOffset).toBe(0)
      expect(await offsets('t')).toEqual({ low: 0, high: 5 })
    })

    test('never touches the active segment', async () => {
      await open()
      await topic('all-active', { 'cleanup.policy': 'compact' })
      await send('all-active', [
        ['a', 1],
        ['a', 2],
        ['a', 3],
      ])
      expect(await clean('all-active')).toEqual(report('all-active', 0, 0, null))
      expect((await contents('all-active')).map((r) => r[0])).toEqual([0, 1, 2])

      await topic('t', { 'cleanup.policy': 'compact', 'segment.records': 3 })
      await send('t', [
        ['a', 1],
        ['a', 2],
        ['a', 3],
        ['a', 4],
        ['a', 5],
      ])
      // Only [0..2] is cleanable: a@2 stays although a@3 and a@4 (active) supersede it.
      expect(await clean('t')).toEqual(report('t', 0, 0, { cleanedUpTo: 3, removedRecords: 2 }))
      expect(await contents('t')).toEqual([
        [2, 'a', 3],
        [3, 'a', 4],
        [4, 'a', 5],
      ])
    })

    test('a tombstone deletes its key and goes delete.retention.ms after the first cleaning that kept it', async () => {
      await open()
      await topic('t', {
        'cleanup.policy': 'compact',
        'segment.records': 2,
        'delete.retention.ms': 1000,
      })
      // Segments [0..1] [2..3] and the active [4].
      await send('t', [
        ['a', 1],
        ['b', 1],
        ['a', null],
        ['c', 1],
        ['x', 1],
      ])
      // Long after the append: the horizon counts from the first cleaning, not from the append.
      now += 5000
      const firstCleaning = now
      expect(await clean('t')).toEqual(report('t', 0, 0, { cleanedUpTo: 4, removedRecords: 1 }))
      expect(await contents('t')).toEqual([
        [1, 'b', 1],
        [2, 'a', null],
        [3, 'c', 1],
        [4, 'x', 1],
      ])

      // One ms before the horizon, a cleaning that rewrites the tombstone's segment (c@3 goes)
      // keeps the tombstone and does not push its horizon back.
      now = firstCleaning + 999
      await send('t', [
        ['c', 2],
        ['y', 1],
      ])
      expect(await clean('t')).toEqual(report('t', 0, 0, { cleanedUpTo: 6, removedRecords: 1 }))
      expect(await contents('t')).toEqual([
        [1, 'b', 1],
        [2, 'a', null],
        [4, 'x', 1],
        [5, 'c', 2],
        [6, 'y', 1],
      ])

      // At the horizon the tombstone goes, though nothing new was appended (Kafka keeps it only
      // while now < deleteHorizonMs).
      now = firstCleaning + 1000
      expect(await clean('t')).toEqual(report('t', 0, 0, { cleanedUpTo: 6, removedRecords: 1 }))
      expect(await contents('t')).toEqual([
        [1, 'b', 1],
        [4, 'x', 1],
        [5, 'c', 2],
        [6, 'y', 1],
      ])
      expect(await offsets('t')).toEqual({ low: 0, high: 7 })
    })

    test('with delete.retention.ms 0 a tombstone survives its first cleaning and goes at the next', async () => {
      await open()
      await topic('t', {
        'cleanup.policy': 'compact',
        'segment.records': 2,
        'delete.retention.ms': 0,
      })
      await send('t', [
        ['a', 1],
        ['a', null],
        ['b', 1],
      ])
      expect(await clean('t')).toEqual(report('t', 0, 0, { cleanedUpTo: 2, removedRecords: 1 }))
      expect(await contents('t')).toEqual([
        [1, 'a', null],
        [2, 'b', 1],
      ])
      expect(await clean('t')).toEqual(report('t', 0, 0, { cleanedUpTo: 2, removedRecords: 1 }))
      expect(await contents('t')).toEqual([[2, 'b', 1]])
    })

    test('min.compaction.lag.ms keeps young segments uncompacted', async () => {
      await open()
      await topic('t', {
        'cleanup.policy': 'compact',
        'segment.records': 2,
        'min.compaction.lag.ms': 1000,
      })
      await send('t', [
        ['a', 1],
        ['a', 2],
      ])
      now = T0 + 2000
      await send('t', [
        ['a', 3],
        ['a', 4],
      ])
      await send('t', [['b', 1]])
      // [0..1] is old enough; [2..3] was written just now, so cleaning stops at offset 2.
      expect(await clean('t')).toEqual(report('t', 0, 0, { cleanedUpTo: 2, removedRecords: 1 }))
      expect(await contents('t')).toEqual([
        [1, 'a', 2],
        [2, 'a', 3],
        [3, 'a', 4],
        [4, 'b', 1],
      ])

      // 999 ms old: still too young.
      now = T0 + 2999
      expect(await clean('t')).toEqual(report('t', 0, 0, null))
      expect(await contents('t')).toHaveLength(4)

      // Exactly min.compaction.lag.ms old: cleanable (Kafka: young means newer than now - lag).
      now = T0 + 3000
      expect(await clean('t')).toEqual(report('t', 0, 0, { cleanedUpTo: 4, removedRecords: 2 }))
      expect(await contents('t')).toEqual([
        [3, 'a', 4],
        [4, 'b', 1],
      ])
    })

    test('min.cleanable.dirty.ratio: a run that is not forced skips a log below it', async () => {
      await open()
      // Every segment is one row of two equal-sized records, so dirty ratios are exact.
      await topic('t', {
        'cleanup.policy': 'compact',
        'segment.records': 2,
        'min.cleanable.dirty.ratio': 0.5,
      })
      const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5']
      await send(
        't',
        keys.map((k) => [k, 1]),
      )
      // Never cleaned: all dirty.
      expect(await clean('t', false)).toEqual(
        report('t', 0, 0, { cleanedUpTo: 4, removedRecords: 0 }),
      )

      await send('t', [
        ['k0', 2],
        ['k1', 2],
      ])
      // Dirty: [4..5] of [0..5], a third.
      expect(await clean('t', false)).toEqual(report('t', 0, 0, null))
      expect((await contents('t')).map((r) => r[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7])

      await send('t', [
        ['k2', 3],
        ['k3', 3],
        ['k4', 3],
        ['k5', 3],
      ])
      // Dirty: [4..9] of [0..9], three fifths.
      expect(await clean('t', false)).toEqual(
        report('t', 0, 0, { cleanedUpTo: 10, removedRecords: 4 }),
      )
      expect(await contents('t')).toEqual([
        [4, 'k4', 1],
        [5, 'k5', 1],
        [6, 'k0', 2],
        [7, 'k1', 2],
        [8, 'k2', 3],
        [9, 'k3', 3],
        [10, 'k4', 3],
        [11, 'k5', 3],
      ])
    })

    test('a keyless record on a compacted topic is rejected and nothing of its send is written', async () => {
      await open()
      for (const policy of ['compact', 'compact,delete']) {
        const name = `keyless-${policy.replace(',', '-')}`
        await topic(name, { 'cleanup.policy': policy })
        const producer = log!.producer()
        await expect(
          producer.send({
            topic: name,
            messages: [{ key: 'a', value: 1 }, { value: 2 }],
          }),
        ).rejects.toMatchObject({ code: 'INVALID_RECORD' })
        await expect(
          producer.send({ topic: name, messages: [{ key: null, value: null }] }),
        ).rejects.toMatchObject({ code: 'INVALID_RECORD' })
        expect(await offsets(name)).toEqual({ low: 0, high: 0 })
        expect(await contents(name)).toEqual([])
        expect(await send(name, [['a', 1]])).toBe(0)
      }
    })
  })

  describe('what compaction counts as a key or a tombstone', () => {
    test('a value whose JSON text is "null" is not a tombstone', async () => {
      await open()
      await topic('t', {
        'cleanup.policy': 'compact',
        'segment.records': 1,
        'delete.retention.ms': 0,
      })
      await send('t', [['a', 1]])
      // NaN, Infinity and an invalid Date serialise to the JSON text "null": stored, such a value
      // would read back as a tombstone and delete the key. The JSON serde refuses them instead
      // (as Kafka's serializers throw a SerializationException before anything reaches the log),
      // with a typed error that says what to send, and nothing of the send is written.
      const producer = log!.producer()
      for (const [value, shown] of [
        [NaN, 'NaN'],
        [Infinity, 'Infinity'],
        [new Date(NaN), 'Invalid Date'],
      ] as const) {
        const refused = producer.send({ topic: 't', messages: [{ key: 'a', value, partition: 0 }] })
        await expect(refused).rejects.toBeInstanceOf(InvalidRecordError)
        await expect(refused).rejects.toMatchObject({
          code: 'INVALID_RECORD',
          message: `Topic "t": value ${shown} has no JSON form other than null; send null itself for a tombstone`,
        })
      }
      expect(await offsets('t')).toEqual({ low: 0, high: 1 })
      expect(await send('t', [['z', 1]])).toBe(1)
      // Twice, so a tombstone's horizon (delete.retention.ms 0) would have passed: 'a' is still there.
      await clean('t')
      await clean('t')
      const { records } = await log!.read({ topic: 't', partition: 0, offset: 0 })
      expect(records.map((r) => [r.offset, r.key, r.value])).toEqual([
        [0, 'a', '1'],
        [1, 'z', '1'],
      ])
    })

    test('keys are compared as bytes, as Kafka does: a string is its UTF-8 bytes', async () => {
      await open()
      await topic('t', { 'cleanup.policy': 'compact', 'segment.records': 1 })
      const producer = log!.producer()
      const put = (key: string | Uint8Array, value: number) =>
        producer.send({ topic: 't', messages: [{ key, value, partition: 0 }] })
      await put('\u0000ba', 1) // bytes 00 62 61: not the key [0x61]
      await put(new Uint8Array([0x61]), 2)
      await put('é', 3) // bytes c3 a9
      await put('a', 4) // the same bytes as [0x61]: supersedes offset 1
      await put(new Uint8Array([0xc3, 0xa9]), 5) // supersedes offset 2
      await send('t', [['z', 6]])
      expect(await clean('t')).toEqual(report('t', 0, 0, { cleanedUpTo: 5, removedRecords: 2 }))
      const { records } = await log!.read({ topic: 't', partition: 0, offset: 0 })
      expect(records.map((r) => r.offset)).toEqual([0, 3, 4, 5])
    })
  })

  describe('retention', () => {
    test('by time: whole segments whose newest record is older than retention.ms', async () => {
      await open()
      await topic('t', { 'cleanup.policy': 'delete', 'retention.ms': 1000, 'segment.records': 2 })
      await send('t', [
        ['r', 0],
        ['r', 1],
      ])
      now = T0 + 100
      await send('t', [['r', 2]])
      now = T0 + 500
      await send('t', [['r', 3]])
      now = T0 + 1000
      await send('t', [['r', 4]])
      // Segments [0..1] (newest T0), [2..3] (newest T0+500), active [4] (T0+1000).

      // Exactly retention.ms old is not older than retention.ms.
      expect(await clean('t')).toEqual(report('t', 0, 0, null))
      now = T0 + 1001
      expect(await clean('t')).toEqual(report('t', 1, 2, null))
      expect(await offsets('t')).toEqual({ low: 2, high: 5 })
      await outOfRange('t', 0)
      await outOfRange('t', 1)
      await outOfRange('t', 6)
      expect((await contents('t')).map((r) => r[0])).toEqual([2, 3, 4])

      // r2 is older than retention.ms, but its segment's newest record is not: nothing goes.
      now = T0 + 1200
      expect(await clean('t')).toEqual(report('t', 0, 2, null))
      expect((await contents('t')).map((r) => r[0])).toEqual([2, 3, 4])

      now = T0 + 1501
      expect(await clean('t')).toEqual(report('t', 1, 4, null))
      await outOfRange('t', 3)
      expect(await contents('t')).toEqual([[4, 'r', 4]])
      expect(await offsets('t')).toEqual({ low: 4, high: 5 })
    })

    test('by bytes: oldest segments go while what remains stays at least retention.bytes', async () => {
      await open()
      await topic('t', {
        'cleanup.policy': 'delete',
        'retention.ms': -1,
        'retention.bytes': 3000,
        'segment.records': 2,
      })
      // Four segments of two ~1 KB records each (S ≈ 2 KB): keeping at least 3000 bytes means
      // keeping two segments; a "shrink below the limit" rule would keep one.
      const big = 'x'.repeat(1000)
      await send(
        't',
        Array.from({ length: 8 }, (_, i): [string, unknown] => [`k${i}`, big]),
      )
      expect(await clean('t')).toEqual(report('t', 2, 4, null))
      expect((await contents('t')).map((r) => r[0])).toEqual([4, 5, 6, 7])
      await outOfRange('t', 3)
      expect(await clean('t')).toEqual(report('t', 0, 4, null))

      await send('t', [
        ['k8', big],
        ['k9', big],
      ])
      expect(await clean('t')).toEqual(report('t', 1, 6, null))
      expect((await contents('t')).map((r) => r[0])).toEqual([6, 7, 8, 9])
    })

    test('compact,delete both deletes old segments and compacts the rest', async () => {
      await open()
      await topic('t', {
        'cleanup.policy': 'compact,delete',
        'retention.ms': 1000,
        'segment.records': 2,
      })
      await send('t', [
        ['a', 1],
        ['b', 1],
      ])
      now = T0 + 2000
      await send('t', [
        ['a', 2],
        ['a', 3],
      ])
      await send('t', [
        ['b', 2],
        ['c', 1],
      ])
      await send('t', [['d', 1]])
      // [0..1] expired; [2..3] [4..5] compacted; [6] active.
      expect(await clean('t')).toEqual(report('t', 1, 2, { cleanedUpTo: 6, removedRecords: 1 }))
      expect(await contents('t')).toEqual([
        [3, 'a', 3],
        [4, 'b', 2],
        [5, 'c', 1],
        [6, 'd', 1],
      ])
      expect(await offsets('t')).toEqual({ low: 2, high: 7 })
      await outOfRange('t', 1)
      // Offset 2 is readable but compacted away: the read starts at 3.
      const r = await log!.read({ topic: 't', partition: 0, offset: 2, maxRecords: 1 })
      expect(r.records.map((x) => x.offset)).toEqual([3])
    })

    test('an expired active segment empties the log but keeps the next offset', async () => {
      await open()
      await topic('t', { 'cleanup.policy': 'delete', 'retention.ms': 1000 })
      await send('t', [
        ['a', 1],
        ['b', 1],
        ['c', 1],
      ])
      now = T0 + 1001
      expect(await clean('t')).toEqual(report('t', 1, 3, null))
      expect(await offsets('t')).toEqual({ low: 3, high: 3 })
      await outOfRange('t', 0)
      await outOfRange('t', 2)
      const empty = await log!.read({ topic: 't', partition: 0, offset: 3 })
      expect(empty).toMatchObject({
        records: [],
        nextOffset: 3,
        highWatermark: 3,
        logStartOffset: 3,
      })

      expect(
        await send('t', [
          ['d', 1],
          ['e', 1],
        ]),
      ).toBe(3)
      expect(await contents('t')).toEqual([
        [3, 'd', 1],
        [4, 'e', 1],
      ])
      // The new records are fresh: nothing more goes.
      expect(await clean('t')).toEqual(report('t', 0, 3, null))
      expect(await offsets('t')).toEqual({ low: 3, high: 5 })
    })
  })

  describe('a config that is not a number', () => {
    // Kafka parses every topic config through ConfigDef (LogConfig's CONFIG definition): a LONG
    // or INT that does not parse ("NaN", "", "abc") is a ConfigException from ConfigDef.parseType
    // ("Not a number of type LONG"), and a value out of its Range is one from Range.ensureValid.
    // LogConfig.validate runs on CreateTopics (and IncrementalAlterConfigs) before anything is
    // written; the client sees INVALID_CONFIG. Duality does the same in parseTopicConfig, with
    // InvalidConfigError. One deliberate difference: Kafka's DOUBLE min.cleanable.dirty.ratio takes
    // "NaN" (Double.parseDouble parses it and NaN fails neither of Range's comparisons); duality
    // refuses it too, since a NaN ratio would silently stop the background cleaner for good.
    const rules: Record<string, string> = {
      'retention.ms': 'an integer >= 0, or -1 for no limit',
      'retention.bytes': 'an integer >= 0, or -1 for no limit',
      'segment.bytes': 'an integer >= 1024',
      'segment.records': 'an integer >= 1',
      'segment.ms': 'an integer >= 1',
      'delete.retention.ms': 'an integer >= 0',
      'min.compaction.lag.ms': 'an integer >= 0',
      'min.cleanable.dirty.ratio': 'a number between 0 and 1',
      'max.message.bytes': 'an integer >= 0',
      'message.timestamp.after.max.ms': 'an integer >= 0',
    }

    test('every numeric config table entry is checked here', () => {
      // So a config added to TopicConfig without a line above fails this file, not passes it.
      expect(Object.keys(rules).sort()).toEqual(
        Object.keys(defaultTopicConfig)
          .filter((name) => name !== 'cleanup.policy')
          .sort(),
      )
    })

    test('NaN, "NaN", "", "abc" and Infinity are refused at creation and no topic is written', async () => {
      await open()
      for (const [name, rule] of Object.entries(rules)) {
        for (const [value, shown] of [
          [NaN, 'NaN'],
          ['NaN', 'NaN'],
          ['', ''],
          ['  ', ''],
          ['abc', 'abc'],
          [Infinity, 'Infinity'],
        ] as const) {
          for (const validateOnly of [false, true]) {
            // A valid topic in the same call: createTopics is all or none, so it is not created either.
            const creating = log!.admin().createTopics({
              validateOnly,
              topics: [
                { topic: 'fine' },
                {
                  topic: 'bad',
                  configEntries: [
                    { name: 'segment.records', value: 3 },
                    { name, value },
                  ],
                },
              ],
            })
            await expect(creating).rejects.toBeInstanceOf(InvalidConfigError)
            await expect(creating).rejects.toMatchObject({
              code: 'INVALID_CONFIG',
              message: `Topic "bad": ${name} must be ${rule}, not "${shown}"`,
            })
          }
        }
      }
      expect(await log!.admin().listTopics()).toEqual([])
      for (const name of ['fine', 'bad']) {
        await expect(log!.admin().fetchTopicOffsets(name)).rejects.toMatchObject({
          code: 'UNKNOWN_TOPIC_OR_PARTITION',
        })
      }
      // The refusals left the log as it was: the same names can be created with valid configs.
      await topic('bad', { 'retention.ms': 1000, 'min.cleanable.dirty.ratio': 0.25 })
      expect(await log!.admin().listTopics()).toEqual(['bad'])
    })

    test("the cleaner's intervalMs must be an integer: NaN would clean every millisecond", async () => {
      // setTimeout runs a NaN, Infinity or over-2^31 delay after 1 ms, so a silently taken NaN
      // meant a cleaner in a tight loop. openLog refuses it before any timer exists.
      const storage = await makeStorage()
      for (const intervalMs of [NaN, Infinity, -1, 1.5, 2 ** 31]) {
        const opening = openLog({ storage, cleaner: { intervalMs }, clock: () => now })
        await expect(opening).rejects.toBeInstanceOf(InvalidConfigError)
        await expect(opening).rejects.toMatchObject({
          code: 'INVALID_CONFIG',
          message: `cleaner.intervalMs must be an integer from 0 (never) to 2147483647 ms, not ${String(intervalMs)}`,
        })
      }
      // The bounds themselves are taken: 0 is "never", 2^31 - 1 the longest timer there is.
      for (const intervalMs of [0, 2 ** 31 - 1]) {
        log = await openLog({ storage, cleaner: { intervalMs }, clock: () => now })
        expect(log.cleaner.active).toBe(intervalMs > 0)
        await log.close()
        log = undefined
      }
    })

    test('lingerMs and maxRowBytes refuse what is not a usable number', async () => {
      const storage = await makeStorage()
      const refused: [Record<string, number>, string][] = [
        [{ lingerMs: NaN }, 'lingerMs must be an integer from 0 to 2147483647 ms, not NaN'],
        [{ lingerMs: -1 }, 'lingerMs must be an integer from 0 to 2147483647 ms, not -1'],
        [
          { lingerMs: Infinity },
          'lingerMs must be an integer from 0 to 2147483647 ms, not Infinity',
        ],
        [{ maxRowBytes: NaN }, 'maxRowBytes must be a positive integer, not NaN'],
        [{ maxRowBytes: 0 }, 'maxRowBytes must be a positive integer, not 0'],
        [{ maxRowBytes: 1.5 }, 'maxRowBytes must be a positive integer, not 1.5'],
      ]
      for (const [options, message] of refused) {
        const opening = openLog({ storage, ...options, clock: () => now })
        await expect(opening).rejects.toBeInstanceOf(InvalidConfigError)
        await expect(opening).rejects.toMatchObject({ code: 'INVALID_CONFIG', message })
      }
      log = await openLog({ storage, lingerMs: 5, maxRowBytes: 1, clock: () => now })
      expect(log.maxRowBytes).toBe(1)
    })
  })

  describe('running alongside the log', () => {
    test('the background cleaner compacts without being called', async () => {
      await open({ intervalMs: 20 })
      await topic('t', { 'cleanup.policy': 'compact', 'segment.records': 2 })
      await send(
        't',
        [1, 2, 3, 4, 5].map((v) => ['a', v]),
      )
      await vi.waitFor(
        async () =>
          expect(await contents('t')).toEqual([
            [3, 'a', 4],
            [4, 'a', 5],
          ]),
        { timeout: 5000, interval: 20 },
      )
    })

    test('appends interleaved with cleaner runs lose nothing', async () => {
      await open()
      await topic('t', { 'cleanup.policy': 'compact', 'segment.records': 3 })
      // 30 records over 5 keys: 25 of them superseded.
      await send(
        't',
        Array.from({ length: 30 }, (_, i): [string, unknown] => [`k${i % 5}`, i]),
      )
      const sent: { base: number; keys: string[] }[] = []
      let removed = 0
      let unique = 0
      for (let round = 0; round < 5; round++) {
        const cleaning = clean('t')
        const sends: Promise<void>[] = []
        for (let i = 0; i < 10; i++) {
          // Sends of 1-3 records with keys never used again, issued between cleaner steps.
          const keys = Array.from({ length: 1 + (i % 3) }, () => `u${unique++}`)
          sends.push(
            send(
              't',
              keys.map((k) => [k, k]),
            ).then((base) => void sent.push({ base, keys })),
          )
          await new Promise((resolve) => setTimeout(resolve, 0))
        }
        const [reports] = await Promise.all([cleaning, ...sends])
        removed += reports[0]!.compaction?.removedRecords ?? 0
      }
      const last = await clean('t')
      removed += last[0]!.compaction?.removedRecords ?? 0

      // The sends' offsets tile 30..end with no gap and no overlap.
      sent.sort((x, y) => x.base - y.base)
      let next = 30
      for (const s of sent) {
        expect(s.base).toBe(next)
        next += s.keys.length
      }
      expect(await offsets('t')).toEqual({ low: 0, high: next })
      // Only the superseded preload records went; every unique record is where its send put it.
      expect(removed).toBe(25)
      const expected: Row[] = [25, 26, 27, 28, 29].map((i) => [i, `k${i % 5}`, i])
      for (const s of sent) s.keys.forEach((k, i) => expected.push([s.base + i, k, k]))
      expect(await contents('t')).toEqual(expected)
    })
  })
})
