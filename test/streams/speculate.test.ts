import { expect, test } from 'vitest'
import {
  KafkaStreams,
  memoryStorage,
  openLog,
  StreamsBuilder,
  TimeWindows,
  type Log,
  type Windowed,
} from '../../src/index.ts'

function topology() {
  const builder = new StreamsBuilder()
  const grouped = builder.stream<string, number>('spend').groupByKey()
  grouped.reduce((a, b) => a + b, { materialized: 'totals' })
  grouped.windowedBy(TimeWindows.ofSizeAndGrace(10, 5)).count({ materialized: 'per-window' })
  return builder.build()
}

async function running(): Promise<{ log: Log; streams: KafkaStreams }> {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  await log.admin().createTopics({ topics: [{ topic: 'spend' }] })
  const streams = new KafkaStreams(topology(), log, { applicationId: 'opt', pollMs: 5 })
  await streams.start()
  return { log, streams }
}

async function send(log: Log, records: [string, number, number][]) {
  await log.producer().send({
    topic: 'spend',
    messages: records.map(([key, value, timestamp]) => ({ key, value, timestamp })),
  })
}

async function caughtUp(log: Log) {
  for (let i = 0; i < 500; i++) {
    const [c] = await log.admin().fetchOffsets({ groupId: 'opt', topics: ['spend'] })
    if (c!.partitions[0]!.offset === (await log.offsets('spend'))[0]!.high) return
    await new Promise((r) => setTimeout(r, 5))
  }
  throw new Error('not caught up')
}

test('speculation shows what pending records would do, and changes nothing', async () => {
  const { log, streams } = await running()
  await send(log, [
    ['food', 10, 1],
    ['rent', 500, 2],
  ])
  await caughtUp(log)
  const totals = streams.store<string, number>('totals')
  const before = totals.all()
  const pending = [
    { topic: 'spend', key: 'food', value: 5, timestamp: 3 },
    { topic: 'spend', key: 'fun', value: 20, timestamp: 4 },
  ]
  const overlay = streams.speculate(pending)!
  expect(overlay.get('totals')).toEqual([
    { key: 'food', value: 15 },
    { key: 'fun', value: 20 },
  ])
  expect(overlay.get('per-window')!.map((c) => [(c.key as Windowed<string>).key, c.value])).toEqual(
    [
      ['food', 2],
      ['fun', 1],
    ],
  )
  // Nothing moved: store, outputs, offsets.
  expect(totals.all()).toEqual(before)
  // When the same records really arrive, the state is what speculation said.
  await send(
    log,
    pending.map((p) => [p.key, p.value, p.timestamp]),
  )
  await caughtUp(log)
  expect(totals.all()).toEqual([
    { key: 'food', value: 15 },
    { key: 'fun', value: 20 },
    { key: 'rent', value: 500 },
  ])
  await streams.close()
})

test('a speculative record far in the future does not move the real stream time', async () => {
  const { log, streams } = await running()
  await send(log, [['food', 1, 1]])
  await caughtUp(log)
  // Speculatively, time jumps to 100: window [0,10) would close.
  streams.speculate([{ topic: 'spend', key: 'food', value: 1, timestamp: 100 }])
  // For real, a record at 12 is still within grace of [0,10) (10 + 5 > 12): it must count.
  await send(log, [
    ['food', 1, 3],
    ['food', 1, 12],
  ])
  await caughtUp(log)
  const windows = streams.store<Windowed<string>, number>('per-window').all()
  expect(windows.map((w) => `${w.key.window.start}:${w.value}`)).toEqual(['0:2', '10:1'])
  await streams.close()
})

test('only a running instance can speculate', async () => {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  await log.admin().createTopics({ topics: [{ topic: 'spend' }] })
  const streams = new KafkaStreams(topology(), log, { applicationId: 'x' })
  expect(() => streams.speculate([])).toThrow(/running/)
})
