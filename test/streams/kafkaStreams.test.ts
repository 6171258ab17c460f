import { expect, test } from 'vitest'
import {
  EmitStrategy,
  JoinWindows,
  KafkaStreams,
  SessionWindows,
  SlidingWindows,
  Suppressed,
  TimeWindows,
  type Topology,
  MemoryDatabase,
  memoryStorage,
  openLog,
  StreamsBuilder,
  KeyValue,
  type Log,
  type LogStorage,
} from '../../src/index.ts'

/** Word count into a table, plus a per-user running total through a table join. */
function topology() {
  const builder = new StreamsBuilder()
  const counts = builder
    .stream<string | null, string>('lines')
    .flatMapValues((line) => line.split(' ').filter(Boolean))
    .groupBy((_, word) => word)
    .count({ materialized: 'word-counts' })
  counts.toStream().to('counts')
  const limits = builder.table<string, number>('limits', { materialized: 'limits' })
  counts
    .join(limits, (count, limit) => (count > limit ? 'over' : 'ok'))
    .toStream()
    .map((word, status) => KeyValue.pair(word, status))
    .to('alerts')
  return builder.build()
}

async function setup(log: Log) {
  await log.admin().createTopics({
    ifNotExists: true,
    topics: [
      { topic: 'lines', numPartitions: 2 },
      { topic: 'limits' },
      { topic: 'counts' },
      { topic: 'alerts' },
    ],
  })
}

async function readTopic(log: Log, topic: string) {
  const out: string[] = []
  for (const { partition, high } of await log.admin().fetchTopicOffsets(topic)) {
    for (let offset = 0; offset < high;) {
      const chunk = await log.fetch({ topic, partition, offset })
      for (const r of chunk.records) out.push(`${partition}:${String(r.key)}=${String(r.value)}`)
      offset = chunk.nextOffset
    }
  }
  return out
}

async function caughtUp(
  log: Log,
  applicationId: string,
  topics = ['lines', 'limits'],
  timeoutMs = 5000,
) {
  const start = Date.now()
  for (;;) {
    const committed = await log.admin().fetchOffsets({ groupId: applicationId, topics })
    const highs = await Promise.all(topics.map((t) => log.admin().fetchTopicOffsets(t)))
    const done = committed.every((c, i) =>
      c.partitions.every(
        (p) => Math.max(p.offset, 0) === highs[i]!.find((h) => h.partition === p.partition)!.high,
      ),
    )
    if (done) return
    if (Date.now() - start > timeoutMs) throw new Error('streams did not catch up')
    await new Promise((r) => setTimeout(r, 5))
  }
}

// Explicit partitions and timestamps: every run gets the same input, wherever it restarts.
const inputs: [
  topic: string,
  partition: number,
  key: string | null,
  value: unknown,
  timestamp: number,
][] = [
  ['limits', 0, 'a', 2, 1000],
  ['lines', 0, null, 'a b a', 1001],
  ['lines', 1, null, 'c a', 1001],
  ['limits', 0, 'c', 0, 1002],
  ['lines', 1, null, 'b c c', 1003],
  ['lines', 0, null, 'a', 1003],
]

async function feed(log: Log, from = 0, to: number = inputs.length) {
  for (const [topic, partition, key, value, timestamp] of inputs.slice(from, to)) {
    await log.producer().send({ topic, messages: [{ key, value, partition, timestamp }] })
  }
}

test('a topology runs over the log: outputs land in topics, state in changelogs, restarts resume', async () => {
  const database = new MemoryDatabase()
  const log = await openLog({ storage: memoryStorage({ database }), cleaner: false })
  await setup(log)
  await feed(log, 0, 3)
  const first = new KafkaStreams(topology(), log, { applicationId: 'wc', pollMs: 20 })
  await first.start()
  await caughtUp(log, 'wc')
  expect(first.store<string, number>('word-counts').get('a')).toBe(3)
  await first.close()
  // A new instance restores its stores from the changelogs and continues where it committed.
  await feed(log, 3)
  const second = new KafkaStreams(topology(), log, { applicationId: 'wc', pollMs: 20 })
  await second.start()
  expect(second.store<string, number>('word-counts').get('a')).toBe(3)
  await caughtUp(log, 'wc')
  const counts = second.store<string, number>('word-counts')
  expect(counts.all().map((kv) => `${kv.key}=${kv.value}`)).toEqual(['a=4', 'b=2', 'c=3'])
  expect((await readTopic(log, 'counts')).map((r) => r.slice(2))).toEqual(
    expect.arrayContaining(['a=1', 'a=2', 'b=1', 'a=3', 'c=1', 'a=4', 'b=2', 'c=2', 'c=3']),
  )
  await second.close()
  await log.close()
})

interface Scenario {
  name: string
  topology: () => Topology
  setup: (log: Log) => Promise<void>
  feed: (log: Log) => Promise<void>
  commits: number
  outputs: string[]
  inputs: string[]
  stores: string[]
}

/** Single-partition topics for a scenario. */
async function createTopics(log: Log, names: string[]): Promise<void> {
  await log.admin().createTopics({ ifNotExists: true, topics: names.map((topic) => ({ topic })) })
}

/** Fails the crashAt-th streams commit after its writes were issued: the transaction aborts. */
function crashingStorage(crashAt: number): LogStorage {
  const base = memoryStorage({ database: new MemoryDatabase() })
  let commits = 0
  return {
    kind: base.kind,
    read: base.read.bind(base),
    close: base.close.bind(base),
    write: ((stores, body, options) =>
      base.write(
        stores,
        async (tx) => {
          const result = await body(tx)
          if (stores.includes('offsets') && stores.includes('batches') && ++commits === crashAt) {
            throw new Error(`crash at commit ${crashAt}`)
          }
          return result
        },
        options,
      )) as LogStorage['write'],
  }
}

async function killAtEveryCommit(scenario: Scenario) {
  const config = { applicationId: 'app', maxRecordsPerBatch: 1, pollMs: 10 }
  const done = (log: Log) => caughtUp(log, 'app', scenario.inputs)
  const baselineLog = await openLog({ storage: memoryStorage(), cleaner: false })
  await scenario.setup(baselineLog)
  await scenario.feed(baselineLog)
  const baseline = new KafkaStreams(scenario.topology(), baselineLog, config)
  await baseline.start()
  await done(baselineLog)
  await baseline.close()
  const snapshot = async (log: Log, streams: KafkaStreams) => ({
    outputs: await Promise.all(scenario.outputs.map((t) => readTopic(log, t))),
    stores: scenario.stores.map((s) => streams.store(s).all()),
  })
  const expected = await snapshot(baselineLog, baseline)
  expect(expected.outputs.flat().length).toBeGreaterThan(3)
  for (let crashAt = 1; crashAt <= scenario.commits; crashAt++) {
    const log = await openLog({ storage: crashingStorage(crashAt), cleaner: false })
    await scenario.setup(log)
    await scenario.feed(log)
    const doomed = new KafkaStreams(scenario.topology(), log, config)
    const crashed = new Promise<void>((r) => doomed.onError(() => r()))
    await doomed.start()
    await crashed
    expect(doomed.currentState).toBe('ERROR')
    // Restart on the same data, as after reopening a killed worker.
    const again = new KafkaStreams(scenario.topology(), log, config)
    await again.start()
    await done(log)
    await again.close()
    expect(await snapshot(log, again), `${scenario.name}, crash at commit ${crashAt}`).toEqual(
      expected,
    )
    await log.close()
  }
}

test('killed at any commit, a restarted instance produces exactly the outputs of an uninterrupted run', async () => {
  await killAtEveryCommit({
    name: 'word count + table join',
    topology,
    setup,
    feed: (log) => feed(log),
    // One commit per input record (maxRecordsPerBatch 1): crash at each of them.
    commits: inputs.length,
    outputs: ['counts', 'alerts'],
    inputs: ['lines', 'limits'],
    stores: ['word-counts'],
  })
})

test('windows, sessions and suppress survive a crash at any commit too (their clocks are stored)', async () => {
  const events: [string, number][] = [
    ['a', 1],
    ['b', 4],
    ['a', 12],
    ['a', 3], // within grace
    ['b', 25],
    ['a', 2], // late by then
    ['a', 27],
    ['b', 60],
  ]
  await killAtEveryCommit({
    name: 'windows',
    topology: () => {
      const builder = new StreamsBuilder()
      const grouped = builder.stream<string, number>('clicks').groupByKey()
      grouped
        .windowedBy(TimeWindows.ofSizeAndGrace(10, 5))
        .emitStrategy(EmitStrategy.onWindowClose())
        .count({ materialized: 'tumbling' })
        .toStream()
        .to('closed')
      grouped
        .windowedBy(SessionWindows.ofInactivityGapAndGrace(6, 2))
        .count({ materialized: 'sessions' })
        .toStream()
        .to('session-updates')
      grouped
        .windowedBy(SessionWindows.ofInactivityGapAndGrace(4, 1))
        .emitStrategy(EmitStrategy.onWindowClose())
        .count({ materialized: 'closed-sessions' })
        .toStream()
        .to('session-finals')
      grouped
        .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(8, 3))
        .reduce((x, y) => x + y, { materialized: 'sliding' })
        .toStream()
        .to('sliding-sums')
      grouped
        .windowedBy(TimeWindows.ofSizeWithNoGrace(20))
        .reduce((x, y) => x + y)
        .suppress(Suppressed.untilWindowCloses())
        .toStream()
        .to('final-sums')
      return builder.build()
    },
    setup: (log) =>
      createTopics(log, [
        'clicks',
        'closed',
        'session-updates',
        'session-finals',
        'sliding-sums',
        'final-sums',
      ]),
    feed: async (log) => {
      for (const [key, ts] of events) {
        await log
          .producer()
          .send({ topic: 'clicks', messages: [{ key, value: ts, timestamp: ts }] })
      }
    },
    commits: events.length,
    outputs: ['closed', 'session-updates', 'session-finals', 'sliding-sums', 'final-sums'],
    inputs: ['clicks'],
    stores: ['tumbling', 'sessions', 'closed-sessions', 'sliding'],
  })
})

test('a windowed stream-stream outer join over the log survives a crash at any commit', async () => {
  const events: [string, string, string, number][] = [
    ['views', 'u1', 'v1', 0],
    ['clicks', 'u1', 'c1', 4],
    ['views', 'u2', 'v2', 10],
    ['clicks', 'u1', 'c2', 30],
    ['views', 'u1', 'v3', 31],
    ['clicks', 'u3', 'c3', 80],
    ['views', 'u1', 'v4', 120],
  ]
  await killAtEveryCommit({
    name: 'stream-stream join',
    topology: () => {
      const builder = new StreamsBuilder()
      builder
        .stream<string, string>('views')
        .outerJoin(
          builder.stream<string, string>('clicks'),
          (v, c) => `${v ?? '-'}+${c ?? '-'}`,
          JoinWindows.ofTimeDifferenceAndGrace(5, 2),
        )
        .to('joined')
      return builder.build()
    },
    setup: (log) => createTopics(log, ['views', 'clicks', 'joined']),
    feed: async (log) => {
      for (const [topic, key, value, timestamp] of events) {
        await log.producer().send({ topic, messages: [{ key, value, timestamp }] })
      }
    },
    commits: events.length,
    outputs: ['joined'],
    inputs: ['views', 'clicks'],
    stores: [],
  })
})

test('store subscriptions get each committed batch of changes; range queries go in key order', async () => {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  await setup(log)
  const streams = new KafkaStreams(topology(), log, {
    applicationId: 'sub',
    maxRecordsPerBatch: 100,
    pollMs: 10,
  })
  await streams.start()
  const counts = streams.store<string, number>('word-counts')
  const seen: string[][] = []
  const off = counts.subscribe((changes) => seen.push(changes.map((c) => `${c.key}=${c.value}`)))
  await log.producer().send({ topic: 'lines', messages: [{ value: 'b a b', partition: 0 }] })
  await caughtUp(log, 'sub')
  expect(seen).toEqual([['b=2', 'a=1']])
  off()
  await log.producer().send({ topic: 'lines', messages: [{ value: 'c', partition: 1 }] })
  await caughtUp(log, 'sub')
  expect(seen).toHaveLength(1)
  expect(counts.range('a', 'b').map((kv) => kv.key)).toEqual(['a', 'b'])
  expect(counts.range('b', 'z').map((kv) => kv.key)).toEqual(['b', 'c'])
  await streams.close()
})

test('a foreign-key join over the log survives a crash at any commit (its index is rebuilt)', async () => {
  const events: [string, string, unknown][] = [
    ['orders', 'o1', { product: 'p1', qty: 2 }],
    ['products', 'p1', 'pen'],
    ['orders', 'o2', { product: 'p1', qty: 5 }],
    ['products', 'p1', 'fountain pen'],
    ['orders', 'o1', { product: 'p2', qty: 1 }],
    ['products', 'p2', 'ink'],
  ]
  await killAtEveryCommit({
    name: 'fk join',
    topology: () => {
      const builder = new StreamsBuilder()
      builder
        .table<string, { product: string; qty: number }>('orders', { materialized: 'orders' })
        .joinOnForeignKey(
          builder.table<string, string>('products', { materialized: 'products' }),
          (o) => o.product,
          (o, name) => `${o.qty}x${name}`,
          { materialized: 'lines' },
        )
        .toStream()
        .to('order-lines')
      return builder.build()
    },
    setup: (log) => createTopics(log, ['orders', 'products', 'order-lines']),
    feed: async (log) => {
      for (const [i, [topic, key, value]] of events.entries()) {
        await log.producer().send({ topic, messages: [{ key, value, timestamp: 100 + i }] })
      }
    },
    commits: events.length,
    outputs: ['order-lines'],
    inputs: ['orders', 'products'],
    stores: ['lines'],
  })
})

test('a topology with a repartition topic survives a crash at any commit', async () => {
  const orders: [string, number, number][] = [
    ['o1', 7, 0],
    ['o2', 8, 1],
    ['o3', 7, 1],
    ['o4', 9, 2],
    ['o5', 8, 3],
    ['o6', 7, 5],
  ]
  await killAtEveryCommit({
    name: 'repartition',
    topology: () => {
      const builder = new StreamsBuilder()
      builder
        .stream<string, { customer: number }>('orders')
        .selectKey((_, o) => o.customer)
        .repartition({ name: 'by-customer', numberOfPartitions: 2 })
        .groupByKey()
        .count({ materialized: 'per-customer' })
        .toStream()
        .to('customer-counts')
      return builder.build()
    },
    setup: (log) => createTopics(log, ['orders', 'customer-counts']),
    feed: async (log) => {
      for (const [key, customer, timestamp] of orders) {
        await log
          .producer()
          .send({ topic: 'orders', messages: [{ key, value: { customer }, timestamp }] })
      }
    },
    // One commit per order, then one per re-keyed record read back from the repartition topic.
    commits: orders.length * 2,
    outputs: ['customer-counts'],
    inputs: ['orders', 'app-by-customer-repartition'],
    stores: ['per-customer'],
  })
})

test('window stores answer fetch(key, from, to) and fetchAll in start-time order', async () => {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  await createTopics(log, ['clicks'])
  const builder = new StreamsBuilder()
  builder
    .stream<string, number>('clicks')
    .groupByKey()
    .windowedBy(TimeWindows.ofSizeWithNoGrace(10))
    .count({ materialized: 'clicks-per-10' })
  const streams = new KafkaStreams(builder.build(), log, { applicationId: 'w', pollMs: 5 })
  await streams.start()
  const clicks: [string, number][] = [
    ['a', 1],
    ['b', 3],
    ['a', 12],
    ['a', 15],
    ['b', 31],
    ['a', 33],
  ]
  await log.producer().send({
    topic: 'clicks',
    messages: clicks.map(([key, timestamp]) => ({ key, value: 1, timestamp })),
  })
  await caughtUp(log, 'w', ['clicks'])
  const windows = streams.windowStore<string, number>('clicks-per-10')
  const show = (rows: { key: { key: string; window: { start: number } }; value: number }[]) =>
    rows.map((r) => `${r.key.key}@${r.key.window.start}=${r.value}`)
  expect(show(windows.fetch('a', 0, 20))).toEqual(['a@0=1', 'a@10=2'])
  expect(show(windows.fetch('a', 5, 100))).toEqual(['a@10=2', 'a@30=1'])
  expect(show(windows.fetchAll(0, 30)).sort()).toEqual([
    'a@0=1',
    'a@10=2',
    'a@30=1',
    'b@0=1',
    'b@30=1',
  ])
  await streams.close()
})
