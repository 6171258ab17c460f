import { expect, test } from 'vitest'
import {
  InvalidArgumentError,
  KafkaStreams,
  memoryStorage,
  openLog,
  StreamsBuilder,
  TimeWindows,
  type Log,
} from '../../src/index.ts'
import { stepMessages, type SpendRecord } from '../support/spendSteps.ts'

function topology() {
  const builder = new StreamsBuilder()
  const grouped = builder.stream<string, number>('spend').groupByKey()
  grouped.reduce((a, b) => a + b, { materialized: 'totals' })
  grouped.count({ materialized: 'counts' })
  grouped.windowedBy(TimeWindows.ofSizeAndGrace(10, 5)).count({ materialized: 'per-window' })
  return builder.build()
}

const STORES = ['totals', 'counts', 'per-window']

async function running(): Promise<{ log: Log; streams: KafkaStreams }> {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  await log.admin().createTopics({ topics: [{ topic: 'spend', numPartitions: 2 }] })
  const streams = new KafkaStreams(topology(), log, { applicationId: 'asof', pollMs: 5 })
  await streams.start()
  return { log, streams }
}

async function committed(log: Log): Promise<number[]> {
  const [c] = await log.admin().fetchOffsets({ groupId: 'asof', topics: ['spend'] })
  return c!.partitions.sort((a, b) => a.partition - b.partition).map((p) => Math.max(0, p.offset))
}

async function caughtUp(log: Log): Promise<number[]> {
  for (let i = 0; i < 500; i++) {
    const highs = (await log.offsets('spend')).map((o) => o.high)
    const at = await committed(log)
    if (at.every((o, p) => o === highs[p])) return at
    await new Promise((r) => setTimeout(r, 5))
  }
  throw new Error('not caught up')
}

/** The live stores, key and value, by store. */
const live = (streams: KafkaStreams) =>
  Object.fromEntries(STORES.map((name) => [name, streams.store(name).all()]))

const replayed = (stores: Map<string, { key: unknown; value: unknown }[]>) =>
  Object.fromEntries(
    STORES.map((name) => [name, stores.get(name)!.map(({ key, value }) => ({ key, value }))]),
  )

// [key, value, timestamp, partition]: timestamps rise across steps, but for one record late for
// its window (dropped by the windowed count, counted by the others). It is in the partition of
// the record that made it late: across partitions the replay takes records in timestamp order,
// where a live instance took them as they arrived.
const steps: SpendRecord[][] = [
  [
    ['food', 10, 1, 0],
    ['rent', 500, 2, 1],
  ],
  [
    ['food', 5, 12, 1],
    ['fun', 20, 13, 0],
    ['rent', 1, 14, 0],
  ],
  [['food', 7, 31, 0]],
  [['food', 100, 3, 0]],
  [
    ['fun', 2, 40, 1],
    ['food', 1, 41, 0],
  ],
]

test('asOf offsets and timestamps equals what the live topology held then, and changes nothing', async () => {
  const { log, streams } = await running()
  const points: { offsets: number[]; stores: ReturnType<typeof live> }[] = []
  for (const step of steps) {
    await log.producer().send({
      topic: 'spend',
      messages: stepMessages(step),
    })
    const offsets = await caughtUp(log)
    points.push({ offsets, stores: live(streams) })
  }
  const changelogs = async () =>
    Promise.all(STORES.map((s) => log.offsets(streams.changelogTopic(s))))
  const before = { stores: live(streams), offsets: await committed(log), logs: await changelogs() }
  // The windowed count dropped the late record live: the replay must too (not a trivial state).
  expect(points[3]!.stores['per-window']).toEqual(points[2]!.stores['per-window'])
  expect(points[3]!.stores['totals']).not.toEqual(points[2]!.stores['totals'])

  for (const point of points) {
    const at = await streams.asOf({ offsets: { spend: point.offsets } })
    expect(at.offsets).toEqual({ spend: point.offsets })
    expect(replayed(at.stores)).toEqual(point.stores)
  }
  // Before the start: empty stores.
  const none = await streams.asOf({ offsets: { spend: [0, 0] } })
  expect(replayed(none.stores)).toEqual({ totals: [], counts: [], 'per-window': [] })
  // By time: every record stamped <= T, up to the first one stamped later in each partition.
  // At 31 that includes the late record (stamped 3) behind it in its partition: points[3].
  for (const [t, point] of [
    [2, points[0]!],
    [14, points[1]!],
    [31, points[3]!],
  ] as const) {
    const at = await streams.asOf({ timestamp: t })
    expect(at.offsets).toEqual({ spend: point.offsets })
    expect(replayed(at.stores)).toEqual(point.stores)
  }
  // A time between records: the records up to it.
  const mid = await streams.asOf({ timestamp: 12 })
  expect(mid.stores.get('totals')!.map(({ key, value }) => [key, value])).toEqual([
    ['food', 15],
    ['rent', 500],
  ])
  // Entries carry the timestamp of their last update.
  expect(mid.stores.get('totals')![0]!.timestamp).toBe(12)

  // The live topology is untouched, and goes on from where it was.
  expect(live(streams)).toEqual(before.stores)
  expect(await committed(log)).toEqual(before.offsets)
  expect(await changelogs()).toEqual(before.logs)
  await log
    .producer()
    .send({ topic: 'spend', messages: [{ key: 'food', value: 1000, timestamp: 50 }] })
  await caughtUp(log)
  expect(streams.store('totals').get('food')).toBe(10 + 5 + 7 + 100 + 1 + 1000)
  await streams.close()
  await log.close()
})

test('bad points are typed errors that name the problem', async () => {
  const { log, streams } = await running()
  await log.producer().send({ topic: 'spend', messages: [{ key: 'a', value: 1, partition: 0 }] })
  await caughtUp(log)
  await expect(streams.asOf({ timestamp: -1 })).rejects.toThrow(InvalidArgumentError)
  await expect(streams.asOf({ timestamp: -1 })).rejects.toThrow(/timestamp must be a number >= 0/)
  await expect(streams.asOf({ offsets: { spend: [2, 0] } })).rejects.toThrow(
    /offset 2 of "spend" partition 0 is out of range \(0\.\.1\)/,
  )
  await expect(streams.asOf({ offsets: { spend: [-1, 0] } })).rejects.toThrow(InvalidArgumentError)
  await expect(streams.asOf({ offsets: { other: [0] } })).rejects.toThrow(
    /"other", which is not an input of this topology \(inputs: spend\)/,
  )
  await expect(streams.asOf({ offsets: { spend: [0, 0, 0] } })).rejects.toThrow(
    /3 partitions for "spend", which has 2/,
  )
  await expect(streams.asOf({} as never)).rejects.toThrow(/\{ offsets \} or \{ timestamp \}/)
  await streams.close()
  await log.close()
})
