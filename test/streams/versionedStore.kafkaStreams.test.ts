import { afterEach, expect, test, vi } from 'vitest'
import {
  InvalidArgumentError,
  Joined,
  KafkaStreams,
  loadSnapshot,
  Materialized,
  memoryStorage,
  openLog,
  saveSnapshot,
  storeSnapshotLabel,
  Stores,
  StreamsBuilder,
  type Log,
} from '../../src/index.ts'
import { ViewMirror } from '../../src/worker/views/ViewMirror.ts'
import { until } from '../support/until.ts'

// A versioned table under KafkaStreams: its changelog and restore (Kafka's
// VersionedKeyValueStoreIntegrationTest: shouldPutGetAndDelete, shouldRestore; the changelog
// config of InternalTopicManager for versioned stores: min.compaction.lag.ms = history retention
// + 24 h), interactive queries as of a time (IQv2 VersionedKeyQuery, KIP-960), and store
// snapshots holding the whole history under a label of their own.

const HOUR = 60 * 60 * 1000
const DAY = 24 * HOUR
const T = 1_700_000_000_000
const CHANGELOG = 'app-rates-changelog'

const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  vi.restoreAllMocks()
  for (const close of closers.splice(0).reverse()) await close()
})

function ratesTopology(history = HOUR) {
  const builder = new StreamsBuilder()
  builder.table<string, number>('fx', {
    materialized: Materialized.as(Stores.persistentVersionedKeyValueStore('rates', history)),
  })
  return builder.build()
}

async function start(log: Log, snapshots: false | { minRecords: number } = false, history = HOUR) {
  const streams = new KafkaStreams(ratesTopology(history), log, {
    applicationId: 'app',
    pollMs: 20,
    snapshots,
  })
  await streams.start()
  closers.push(() => streams.close())
  return streams
}

async function processed(log: Log, offset: number) {
  await until(async () => {
    const [committed] = await log.admin().fetchOffsets({ groupId: 'app', topics: ['fx'] })
    return committed!.partitions[0]!.offset === offset
  })
}

async function seeded(clock: { now: number }) {
  const log = await openLog({ storage: memoryStorage(), cleaner: false, clock: () => clock.now })
  closers.push(() => log.close())
  await log.admin().createTopics({ topics: [{ topic: 'fx', numPartitions: 1 }] })
  await log.producer().send({
    topic: 'fx',
    messages: [
      { key: 'EUR', value: 1.1, timestamp: T },
      { key: 'EUR', value: 1.3, timestamp: T + 2_000 },
      { key: 'EUR', value: 1.2, timestamp: T + 1_000 }, // out of order
      { key: 'GBP', value: 0.8, timestamp: T },
      { key: 'GBP', value: null, timestamp: T + 3_000 }, // a delete at T + 3 s
    ],
  })
  return log
}

/** What the store answers, as one comparable value. */
function answers(streams: KafkaStreams) {
  const rates = streams.versionedStore<string, number>('rates')
  return {
    eurLatest: rates.get('EUR'),
    eurAt500: rates.get('EUR', T + 500),
    eurAt1500: rates.get('EUR', T + 1_500),
    eurBefore: rates.get('EUR', T - 1),
    gbpAt2000: rates.get('GBP', T + 2_000),
    gbpLatest: rates.get('GBP'),
  }
}

const EXPECTED = {
  eurLatest: { value: 1.3, timestamp: T + 2_000 },
  eurAt500: { value: 1.1, timestamp: T, validTo: T + 1_000 },
  eurAt1500: { value: 1.2, timestamp: T + 1_000, validTo: T + 2_000 },
  eurBefore: null,
  gbpAt2000: { value: 0.8, timestamp: T, validTo: T + 3_000 },
  gbpLatest: null,
}

test('shouldPutGetAndDelete: a running instance answers get(key) and get(key, asOfTimestamp)', async () => {
  const clock = { now: T + 5_000 }
  const log = await seeded(clock)
  const streams = await start(log)
  await processed(log, 5)
  expect(answers(streams)).toEqual(EXPECTED)
  expect(streams.versionedStore('rates').historyRetentionMs).toBe(HOUR)
  // A versioned store is not a plain one, in either direction (as Kafka's IQ).
  expect(() => streams.store('rates')).toThrow(InvalidArgumentError)
})

test('the changelog keeps versions for the history retention plus a day, each record stamped with its version time', async () => {
  const clock = { now: T + 5_000 }
  const log = await seeded(clock)
  await start(log)
  await processed(log, 5)
  const { config } = await log.topic(CHANGELOG)
  expect(config['cleanup.policy']).toBe('compact')
  expect(config['min.compaction.lag.ms']).toBe(HOUR + DAY)
  const { records } = await log.fetch<{ value: unknown; timestamp: number } | null, string>({
    topic: CHANGELOG,
    partition: 0,
    offset: 0,
  })
  const rows = records.map((r) => [r.key, r.value?.value ?? null, r.timestamp])
  // Each version in order; the out-of-order EUR write is followed by EUR's latest again, so the
  // last EUR record (what compaction keeps) is its latest version; the delete is a tombstone.
  expect(rows).toEqual([
    ['"EUR"', 1.1, T],
    ['"EUR"', 1.3, T + 2_000],
    ['"EUR"', 1.2, T + 1_000],
    ['"GBP"', 0.8, T],
    ['"GBP"', null, T + 3_000],
    ['"EUR"', 1.3, T + 2_000],
  ])
  expect(records[4]!.value).toBeNull()
})

test('shouldRestore: after a restart the history is back, from the changelog', async () => {
  const clock = { now: T + 5_000 }
  const log = await seeded(clock)
  const first = await start(log)
  await processed(log, 5)
  await first.close()
  const second = await start(log)
  expect(answers(second)).toEqual(EXPECTED)
})

test("compaction waits for the lag, then keeps each key's latest version: a restart still has it", async () => {
  const clock = { now: T + 5_000 }
  const log = await seeded(clock)
  // The changelog as the runtime makes it, plus a segment per record so the cleaner may work on
  // all of them (the runtime keeps an existing topic: createTopics ifNotExists).
  await log.admin().createTopics({
    topics: [
      {
        topic: CHANGELOG,
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'min.compaction.lag.ms', value: String(HOUR + DAY) },
          { name: 'segment.records', value: '1' },
        ],
      },
    ],
  })
  const first = await start(log)
  await processed(log, 5)
  await first.close()
  const count = async () =>
    (await log.fetch({ topic: CHANGELOG, partition: 0, offset: 0 })).records.length
  await log.cleaner.run({ topics: [CHANGELOG], force: true })
  expect(await count()).toBe(6) // the versions are younger than the lag: all kept
  clock.now = T + HOUR + DAY + 10_000 // every record is past min.compaction.lag.ms
  await log.cleaner.run({ topics: [CHANGELOG], force: true })
  expect(await count()).toBeLessThan(6)
  const second = await start(log)
  const rates = second.versionedStore<string, number>('rates')
  expect(rates.get('EUR')).toEqual({ value: 1.3, timestamp: T + 2_000 })
  expect(rates.get('GBP')).toBeNull()
})

test('a versioned store snapshots its whole history under its own label; a plain image is refused', async () => {
  const clock = { now: T + 5_000 }
  const log = await seeded(clock)
  const first = await start(log, { minRecords: 1 })
  await processed(log, 5)
  const topology = ratesTopology()
  const label = storeSnapshotLabel(topology, 'rates')
  expect(label.startsWith('duality.versioned.1 rates 3600000 ')).toBe(true)
  await until(async () => (await loadSnapshot(log, CHANGELOG, label)).snapshot !== null)
  await first.close()
  const { snapshot } = await loadSnapshot(log, CHANGELOG, label)
  // Every version kept, deletes included: EUR three, GBP two.
  expect(snapshot!.entries.length).toBe(5)
  expect(snapshot!.offsets).toEqual([6])
  // A plain store of the same name expects another label: the image is foreign to it.
  const plain = new StreamsBuilder()
  plain.table('fx', { materialized: 'rates' })
  const plainLabel = storeSnapshotLabel(plain.build(), 'rates')
  expect(plainLabel).not.toBe(label)
  expect((await loadSnapshot(log, CHANGELOG, plainLabel)).rejected).toBe('foreign')

  // Restored from the image (no changelog read below its offset), the history is whole.
  const reads: number[] = []
  const fetch = log.fetch.bind(log)
  log.fetch = (async (options: Parameters<Log['fetch']>[0]) => {
    if (options.topic === CHANGELOG) reads.push(options.offset)
    return fetch(options)
  }) as Log['fetch']
  const second = await start(log, { minRecords: 1 })
  expect(reads).toEqual([6])
  expect(answers(second)).toEqual(EXPECTED)
  await second.close()

  // An image written with a plain store's label is never read into the versioned store.
  log.fetch = fetch
  await saveSnapshot(log, {
    topic: CHANGELOG,
    offsets: [6],
    label: plainLabel,
    entries: [['"EUR"', 99, T + 9_000]],
  })
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
  const third = await start(log)
  expect(answers(third)).toEqual(EXPECTED)
  const fourth = await start(log, { minRecords: 1 })
  expect(answers(fourth)).toEqual(EXPECTED)
  expect(warn.mock.calls.some(([m]) => String(m).includes('foreign'))).toBe(true)
})

test("a view of a versioned store (the worker's ViewMirror, folding its changelog) shows each key's latest version", async () => {
  const clock = { now: T + 5_000 }
  const log = await seeded(clock)
  const streams = await start(log)
  await processed(log, 5)
  const mirror = new ViewMirror(log, CHANGELOG)
  closers.push(() => mirror.close())
  await mirror.loaded
  // EUR's out-of-order 1.2 came after 1.3 in time of arrival; the view still shows 1.3. GBP is
  // deleted.
  expect([...mirror.entries.values()].map(([k, v]) => [k, v])).toEqual([['"EUR"', 1.3]])
  expect(streams.versionedStore('rates').get('EUR')?.value).toBe(1.3)
})

test('a stream-table join with a grace period holds its records across a restart (the buffer is a store)', async () => {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  closers.push(() => log.close())
  await log.admin().createTopics({
    topics: [
      { topic: 'fx', numPartitions: 1 },
      { topic: 'payments', numPartitions: 1 },
      { topic: 'converted', numPartitions: 1 },
    ],
  })
  const topology = () => {
    const builder = new StreamsBuilder()
    const rates = builder.table<string, number>('fx', {
      materialized: Materialized.as(Stores.persistentVersionedKeyValueStore('rates', HOUR)),
    })
    builder
      .stream<string, number>('payments')
      .join(rates, (amount, rate) => amount * rate, Joined.withGracePeriod(10_000))
      .to('converted')
    return builder.build()
  }
  const run = async () => {
    const streams = new KafkaStreams(topology(), log, { applicationId: 'g', pollMs: 20 })
    await streams.start()
    return streams
  }
  const committed = async (topic: string, offset: number) =>
    until(async () => {
      const [c] = await log.admin().fetchOffsets({ groupId: 'g', topics: [topic] })
      return c!.partitions[0]!.offset === offset
    })
  const send = (topic: string, key: string, value: number, timestamp: number) =>
    log.producer().send({ topic, messages: [{ key, value, timestamp }] })
  await send('fx', 'EUR', 2, T)
  await send('payments', 'EUR', 10, T + 5_000) // held: stream time T + 5 s
  const first = await run()
  await committed('payments', 1)
  await committed('fx', 1)
  await first.close()
  await send('fx', 'EUR', 3, T + 4_000) // late, but within the grace period of the held payment
  await send('payments', 'EUR', 1, T + 20_000) // releases the held payment
  const second = await run()
  await committed('payments', 2)
  await second.close()
  const { records } = await log.fetch<number>({ topic: 'converted', partition: 0, offset: 0 })
  expect(records.map((r) => [r.value, r.timestamp])).toEqual([[30, T + 5_000]])
})

test('a snapshot restores versions in time order: one older than the horizon but still valid is kept', async () => {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  closers.push(() => log.close())
  await log.admin().createTopics({ topics: [{ topic: 'fx', numPartitions: 1 }] })
  // History 1 s. B is the first key written, so a key-by-key restore would put B@2000 before
  // A@0 and refuse A@0 (older than 2000 - 1000), though A@0 is valid until 1500.
  await log.producer().send({
    topic: 'fx',
    messages: [
      { key: 'B', value: 1, timestamp: T + 100 },
      { key: 'A', value: 10, timestamp: T },
      { key: 'A', value: 15, timestamp: T + 1_500 },
      { key: 'B', value: 2, timestamp: T + 2_000 },
    ],
  })
  const first = await start(log, { minRecords: 1 }, 1_000)
  await processed(log, 4)
  const label = storeSnapshotLabel(ratesTopology(1_000), 'rates')
  await until(async () => (await loadSnapshot(log, CHANGELOG, label)).snapshot?.offsets[0] === 4)
  expect(first.versionedStore('rates').get('A', T + 1_200)).toEqual({
    value: 10,
    timestamp: T,
    validTo: T + 1_500,
  })
  await first.close()
  const second = await start(log, { minRecords: 1 }, 1_000)
  expect(second.versionedStore('rates').get('A', T + 1_200)).toEqual({
    value: 10,
    timestamp: T,
    validTo: T + 1_500,
  })
})
