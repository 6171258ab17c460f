import { expect, test } from 'vitest'
import {
  KafkaStreams,
  MemoryDatabase,
  memoryStorage,
  openLog,
  StreamsBuilder,
  KeyValue,
  type Log,
  type LogStorage,
} from '../src/index.ts'

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

async function caughtUp(log: Log, applicationId: string, timeoutMs = 5000) {
  const start = Date.now()
  for (;;) {
    const committed = await log
      .admin()
      .fetchOffsets({ groupId: applicationId, topics: ['lines', 'limits'] })
    const highs = await Promise.all(
      ['lines', 'limits'].map((t) => log.admin().fetchTopicOffsets(t)),
    )
    const done = committed.every((c, i) =>
      c.partitions.every(
        (p) => p.offset === highs[i]!.find((h) => h.partition === p.partition)!.high,
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

test('killed at any commit, a restarted instance produces exactly the outputs of an uninterrupted run', async () => {
  // The uninterrupted run.
  const baselineLog = await openLog({ storage: memoryStorage(), cleaner: false })
  await setup(baselineLog)
  await feed(baselineLog)
  const baseline = new KafkaStreams(topology(), baselineLog, {
    applicationId: 'wc',
    maxRecordsPerBatch: 1,
    pollMs: 10,
  })
  await baseline.start()
  await caughtUp(baselineLog, 'wc')
  await baseline.close()
  const expected = {
    counts: await readTopic(baselineLog, 'counts'),
    alerts: await readTopic(baselineLog, 'alerts'),
    store: baseline.store('word-counts').all(),
  }
  expect(expected.counts.length).toBeGreaterThan(5)

  // One commit per input record (maxRecordsPerBatch 1): crash at each of them.
  for (let crashAt = 1; crashAt <= inputs.length; crashAt++) {
    const database = new MemoryDatabase()
    const base = memoryStorage({ database })
    let commits = 0
    // Fails the crashAt-th streams commit after its writes were issued: the transaction aborts.
    const failing: LogStorage = {
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
    const log = await openLog({ storage: failing, cleaner: false })
    await setup(log)
    await feed(log)
    const doomed = new KafkaStreams(topology(), log, {
      applicationId: 'wc',
      maxRecordsPerBatch: 1,
      pollMs: 10,
    })
    const crashed = new Promise<void>((r) => doomed.onError(() => r()))
    await doomed.start()
    await crashed
    expect(doomed.currentState).toBe('ERROR')
    // Restart on the same data, as after reopening a killed worker.
    const again = new KafkaStreams(topology(), log, {
      applicationId: 'wc',
      maxRecordsPerBatch: 1,
      pollMs: 10,
    })
    await again.start()
    await caughtUp(log, 'wc')
    await again.close()
    expect(await readTopic(log, 'counts'), `crash at ${crashAt}`).toEqual(expected.counts)
    expect(await readTopic(log, 'alerts'), `crash at ${crashAt}`).toEqual(expected.alerts)
    expect(again.store('word-counts').all()).toEqual(expected.store)
    await log.close()
  }
})

test('a topology with state outside its stores is refused over the log, with the reason', async () => {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  const { TimeWindows } = await import('../src/index.ts')
  const builder = new StreamsBuilder()
  builder.stream('x').groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(10)).count()
  expect(() => new KafkaStreams(builder.build(), log, { applicationId: 'w' })).toThrow(
    /not yet over the log/,
  )
})
