import { afterEach, expect, test } from 'vitest'
import {
  KafkaStreams,
  memoryStorage,
  openLog,
  StreamsBuilder,
  TimeWindows,
  type Log,
} from '../../src/index.ts'
import {
  changelogView,
  createWorkerApi,
  packSnapshot,
  snapshotEntries,
  type DiffMessage,
  type ViewMessage,
  type WireEntry,
} from '../../src/worker/index.ts'
import { until } from '../support/until.ts'

// The worker side of views on memory storage: mirrors of changelog topics, their snapshots,
// diffs and pages, without a browser.

const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

/** Payment totals per user, and a per-user count in 1-minute windows. */
async function start(log: Log, applicationId = 'app') {
  await log.admin().createTopics({
    ifNotExists: true,
    topics: [
      { topic: 'payments', numPartitions: 3 },
      { topic: 'rates', numPartitions: 2 },
    ],
  })
  const builder = new StreamsBuilder()
  builder.globalTable<string, number>('rates', { materialized: 'rates' })
  const payments = builder.stream<string, number>('payments')
  payments.groupByKey().reduce((a, b) => a + b, { materialized: 'totals' })
  payments
    .groupByKey()
    .windowedBy(TimeWindows.ofSizeWithNoGrace(60_000))
    .count({ materialized: 'per-minute' })
  const streams = new KafkaStreams(builder.build(), log, { applicationId, pollMs: 50 })
  await streams.start()
  closers.push(() => streams.close())
  return streams
}

async function open() {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  closers.push(() => log.close())
  const api = createWorkerApi(log, {
    views: [
      changelogView('app', 'totals'),
      changelogView('app', 'per-minute'),
      changelogView('app', 'rates', 'fx'),
    ],
  })
  closers.push(() => api.views.close())
  return {
    log,
    api,
    send: (user: string, amount: number, timestamp?: number) => send(log, user, amount, timestamp),
  }
}

const send = (log: Log, key: string, value: number, timestamp?: number) =>
  log.producer().send({
    topic: 'payments',
    messages: [{ key, value, ...(timestamp === undefined ? {} : { timestamp }) }],
  })

/** A page's side of a subscription, done by hand: snapshot, then diffs checked for contiguity. */
function follower() {
  const messages: ViewMessage[] = []
  const state = new Map<string, unknown>()
  let offsets: number[] | null = null
  const onMessage = (message: ViewMessage) => {
    messages.push(message)
    if (message.type === 'snapshot') {
      state.clear()
      for (const [key, value] of snapshotEntries(message)) state.set(key, value)
      offsets = message.offsets
    } else if (message.type === 'diff') {
      // Every diff starts exactly where the previous state ended: no gap, no overlap.
      expect(message.from).toEqual(offsets)
      for (const [key, value] of message.puts) state.set(key, value)
      for (const key of message.deletes) state.delete(key)
      offsets = message.to
    }
  }
  return { onMessage, messages, state, offsets: () => offsets }
}

test('a view mirrors its store from the changelog: snapshot, then diffs tagged with offsets', async () => {
  const { log, api } = await open()
  const streams = await start(log)
  await send(log, 'ada', 3)
  await send(log, 'bob', 4)
  await until(() => streams.store('totals').approximateNumEntries() === 2)

  const page = follower()
  const id = await api.views.subscribe('totals', page.onMessage)
  expect(page.messages[0]!.type).toBe('snapshot')
  await until(() => page.state.size === 2)
  expect(Object.fromEntries(page.state)).toEqual({ '"ada"': 3, '"bob"': 4 })

  await send(log, 'ada', 5)
  await until(() => page.state.get('"ada"') === 8)
  const diffs = page.messages.filter((m): m is DiffMessage => m.type === 'diff')
  expect(diffs.length).toBeGreaterThan(0)
  expect(diffs.at(-1)!.puts).toContainEqual(['"ada"', 8, expect.any(Number)])
  // What the page holds is the streams store, key for key.
  expect([...page.state].sort()).toEqual(
    streams
      .store<string, number>('totals')
      .all()
      .map(({ key, value }) => [JSON.stringify(key), value])
      .sort(),
  )
  api.views.unsubscribe(id)
  const seen = page.messages.length
  const other = follower()
  await api.views.subscribe('totals', other.onMessage)
  await send(log, 'ada', 1)
  // Once another subscriber has the change, the one that left would have had it too.
  await until(() => other.state.get('"ada"') === 9)
  expect(page.messages.length).toBe(seen)
})

test('a burst of 2,000 appends reaches a subscriber in far fewer diffs than records', async () => {
  const { log, api } = await open()
  const streams = await start(log)
  const page = follower()
  await api.views.subscribe('totals', page.onMessage)
  await Promise.all(Array.from({ length: 2000 }, (_, i) => send(log, `user-${i % 500}`, 1)))
  await until(
    () => [...page.state.values()].reduce((a: number, v) => a + (v as number), 0) === 2000,
  )
  expect(page.state.size).toBe(500)
  const diffs = page.messages.filter((m) => m.type === 'diff')
  // Sends of one task share a commit; each commit's changes go as one diff at most.
  expect(diffs.length).toBeLessThan(100)
  expect(streams.store('totals').approximateNumEntries()).toBe(500)
})

test('a view whose changelog does not exist yet starts empty and fills once the topology runs', async () => {
  const { log, api } = await open()
  const page = follower()
  await api.views.subscribe('totals', page.onMessage)
  expect(page.messages).toEqual([packSnapshot([], [])])
  await log.admin().createTopics({ topics: [{ topic: 'payments', numPartitions: 3 }] })
  await send(log, 'cy', 2)
  await start(log)
  await until(() => page.state.get('"cy"') === 2)
})

test('windowed views carry { key, window } keys; unknown views are a typed error', async () => {
  const { log, api } = await open()
  await start(log)
  await send(log, 'ada', 1, 1_000)
  await send(log, 'ada', 1, 2_000)
  await send(log, 'ada', 1, 61_000)
  const page = follower()
  await api.views.subscribe('per-minute', page.onMessage)
  await until(() => page.state.size === 2)
  expect(Object.fromEntries(page.state)).toEqual({
    '{"key":"ada","window":{"start":0,"end":60000}}': 2,
    '{"key":"ada","window":{"start":60000,"end":120000}}': 1,
  })
  await expect(api.views.subscribe('nope', () => undefined)).rejects.toThrow(
    /No view "nope".*serve\(\{ views \}\)/,
  )
})

test('a global table is a view too, under a name of its own; a tombstone deletes its key', async () => {
  const { log, api } = await open()
  await start(log)
  const rate = (key: string, value: number | null) =>
    log.producer().send({ topic: 'rates', messages: [{ key, value }] })
  await rate('EUR', 1.1)
  await rate('GBP', 1.3)
  const page = follower()
  await api.views.subscribe('fx', page.onMessage)
  await until(() => page.state.size === 2)
  await rate('EUR', null)
  await until(() => page.state.size === 1)
  expect(Object.fromEntries(page.state)).toEqual({ '"GBP"': 1.3 })
  const deletes = page.messages.flatMap((m) => (m.type === 'diff' ? m.deletes : []))
  expect(deletes).toContain('"EUR"')
})

test('a changelog of several partitions (one per input partition, as it will be) is mirrored whole', async () => {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  closers.push(() => log.close())
  const topic = 'manual-changelog'
  await log.admin().createTopics({
    topics: [
      {
        topic,
        numPartitions: 3,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      },
    ],
  })
  const api = createWorkerApi(log, { views: [{ name: 'manual', topic }] })
  closers.push(() => api.views.close())
  // Records as KafkaStreams writes them: key = the store key's JSON, value = { value, timestamp }.
  const write = (partition: number, key: string, value: number | null) =>
    log.producer().send({
      topic,
      messages: [
        {
          key: JSON.stringify(key),
          value: value === null ? null : { value, timestamp: 7 },
          partition,
        },
      ],
    })
  await write(0, 'a', 1)
  await write(1, 'b', 2)
  await write(2, 'c', 3)
  await write(2, 'c', 4)
  const page = follower()
  await api.views.subscribe('manual', page.onMessage)
  expect(page.offsets()).toEqual([1, 1, 2])
  expect(Object.fromEntries(page.state)).toEqual({ '"a"': 1, '"b"': 2, '"c"': 4 })
  await write(1, 'b', null)
  await write(0, 'd', 5)
  await until(() => page.offsets()?.join() === '2,2,2')
  expect(Object.fromEntries(page.state)).toEqual({ '"a"': 1, '"c"': 4, '"d"': 5 })
  // The follower checked each diff's `from` against the offsets it held: no gap, no overlap.
  expect(page.messages.filter((m) => m.type === 'diff').length).toBeGreaterThan(0)
})

test('a changelog deleted and created again: subscribers start over from a new snapshot', async () => {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  closers.push(() => log.close())
  const topic = 'manual-changelog'
  const create = () =>
    log.admin().createTopics({
      topics: [{ topic, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
    })
  const write = (key: string, value: number) =>
    log.producer().send({
      topic,
      messages: [{ key: JSON.stringify(key), value: { value, timestamp: 0 } }],
    })
  await create()
  const api = createWorkerApi(log, { views: [{ name: 'manual', topic }] })
  closers.push(() => api.views.close())
  await write('a', 1)
  await write('b', 2)
  await write('c', 3)
  const page = follower()
  await api.views.subscribe('manual', page.onMessage)
  expect(page.offsets()).toEqual([3])
  await log.admin().deleteTopics({ topics: [topic] })
  await create()
  await write('z', 9)
  await until(() => page.messages.filter((m) => m.type === 'snapshot').length === 2)
  expect(Object.fromEntries(page.state)).toEqual({ '"z"': 9 })
  expect(page.offsets()).toEqual([1])
})

test('queryView pages: key order, ranges, continuation', async () => {
  const { log, api } = await open()
  const streams = await start(log)
  const users = Array.from({ length: 25 }, (_, i) => `u${String(i).padStart(2, '0')}`)
  await Promise.all(users.map((u, i) => send(log, u, i)))
  await until(() => streams.store('totals').approximateNumEntries() === 25)
  const keys: string[] = []
  let page = await api.views.query('totals', { limit: 10 })
  for (;;) {
    keys.push(...page.entries.map((e: WireEntry) => JSON.parse(e[0]) as string))
    if (page.next === null) break
    page = await api.views.query('totals', { limit: 10, after: page.next })
  }
  expect(keys).toEqual(users)
  const range = await api.views.query('totals', { from: 'u05', to: 'u08' })
  expect(range.entries.map((e) => e[1])).toEqual([5, 6, 7, 8])
  expect(range.next).toBeNull()
  await expect(api.views.query('totals', { limit: 0 })).rejects.toThrow(/limit/)
})
