// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react'
import { Component, createElement, StrictMode, type ReactNode } from 'react'
import { afterEach, beforeAll, expect, test } from 'vitest'
import { KafkaStreams, memoryStorage, StreamsBuilder, TimeWindows } from '../../src/index.ts'
import {
  DualityProvider,
  useAppend,
  useView,
  useViewKey,
  useViewRange,
  useWindows,
} from '../../src/react/index.ts'
import { changelogView, connect, serve, type Client } from '../../src/worker/index.ts'
import {
  createAppend,
  createViewStore,
  queryView,
  type ViewState,
} from '../../src/zustand/index.ts'
import { until } from '../support/until.ts'

// The page side in jsdom, the worker side in-process: serve() on memory storage behind one end
// of a MessageChannel, connect() on the other, comlink in between as with a real worker.

type Payment = { user: string; amount: number }
type Events = { payments: Payment }

beforeAll(() => {
  // Store updates arrive from the worker's messages, outside act(): React need not warn.
  ;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false
})

const closers: (() => unknown)[] = []
afterEach(async () => {
  cleanup()
  for (const close of closers.splice(0).reverse()) await close()
})

let databases = 0
async function setup() {
  const { port1, port2 } = new MessageChannel()
  const served = await serve({
    name: `views-react-${++databases}`,
    storage: memoryStorage(),
    endpoint: port1,
    groups: false,
    cleaner: false,
    topics: [{ topic: 'payments', numPartitions: 3 }],
    views: [changelogView('app', 'totals'), changelogView('app', 'per-minute')],
  })
  closers.push(() => served.close())
  const builder = new StreamsBuilder()
  const payments = builder
    .stream<string, Payment>('payments')
    .selectKey((_k, p) => p.user)
    .mapValues((p) => p.amount)
  payments.groupByKey().reduce((a, b) => a + b, { materialized: 'totals' })
  payments
    .groupByKey()
    .windowedBy(TimeWindows.ofSizeWithNoGrace(60_000))
    .reduce((a, b) => a + b, { materialized: 'per-minute' })
  const streams = new KafkaStreams(builder.build(), served.log, { applicationId: 'app' })
  await streams.start()
  closers.push(() => streams.close())
  const client = connect(port2)
  closers.push(() => {
    client.close()
    port1.close()
    port2.close()
  })
  const append = createAppend<Events>(client)
  const pay = (user: string, amount: number, timestamp?: number) =>
    append(
      'payments',
      { user, amount },
      timestamp === undefined ? { key: user } : { key: user, timestamp },
    )
  return { client, served, streams, pay }
}

const withClient = (client: Client, children: ReactNode) =>
  createElement(DualityProvider, { client }, children)

test('an event appended through the client updates the component', async () => {
  const { client } = await setup()
  function Total({ user }: { user: string }) {
    const total = useViewKey<string, number>('totals', user)
    const append = useAppend<Events>()
    return createElement(
      'button',
      { onClick: () => void append('payments', { user, amount: 5 }, { key: user }) },
      `${user}: ${total ?? 'none'}`,
    )
  }
  render(withClient(client, createElement(Total, { user: 'ada' })))
  await screen.findByText('ada: none')
  screen.getByRole('button').click()
  await screen.findByText('ada: 5')
  screen.getByRole('button').click()
  await screen.findByText('ada: 10')
})

test('hooks survive StrictMode: its unmount and remount keep the view store open', async () => {
  const { client, pay } = await setup()
  function Total() {
    const total = useViewKey<string, number>('totals', 'ada')
    return createElement('p', null, `ada: ${total ?? 'none'}`)
  }
  render(createElement(StrictMode, null, withClient(client, createElement(Total))))
  await screen.findByText('ada: none')
  // Past the task in which a store left without components would be closed.
  await new Promise((resolve) => setTimeout(resolve, 0))
  await pay('ada', 2)
  await screen.findByText('ada: 2')
})

test('a component that selects an unchanged key does not re-render', async () => {
  const { client, pay } = await setup()
  await pay('bob', 1)
  const renders = { ada: 0, bob: 0 }
  function Total({ user }: { user: 'ada' | 'bob' }) {
    const total = useView('totals', (s: ViewState<string, number>) => s.get(user))
    renders[user]++
    return createElement('p', null, `${user}: ${total ?? 'none'}`)
  }
  render(
    withClient(
      client,
      createElement('div', null, [
        createElement(Total, { user: 'ada', key: 'a' }),
        createElement(Total, { user: 'bob', key: 'b' }),
      ]),
    ),
  )
  await screen.findByText('bob: 1')
  const bobBefore = renders.bob
  const adaBefore = renders.ada
  for (let i = 1; i <= 5; i++) {
    await pay('ada', 1)
    await screen.findByText(`ada: ${i}`)
  }
  expect(renders.ada).toBeGreaterThanOrEqual(adaBefore + 5)
  expect(renders.bob).toBe(bobBefore)
  screen.getByText('bob: 1')
})

test('two stores on one view see the same state', async () => {
  const { client, pay } = await setup()
  const a = createViewStore<string, number>(client, 'totals')
  const b = createViewStore<string, number>(client, 'totals')
  closers.push(
    () => a.close(),
    () => b.close(),
  )
  await Promise.all([a.ready, b.ready])
  await Promise.all([pay('ada', 2), pay('bob', 3), pay('ada', 4)])
  await until(() => a.getState().get('ada') === 6 && a.getState().get('bob') === 3)
  // One subscription feeds both: the very same state object, not merely equal ones.
  expect(b.getState()).toBe(a.getState())
  a.close()
  await pay('cy', 1)
  await until(() => b.getState().get('cy') === 1)
  expect(a.getState().has('cy')).toBe(false)
})

test('a store created after 10,000 events starts from the snapshot, then follows without gaps', async () => {
  const { client, served, streams } = await setup()
  const producer = client.producer()
  for (let i = 0; i < 10_000; i += 1_000) {
    await producer.send({
      topic: 'payments',
      messages: Array.from({ length: 1_000 }, (_, j) => ({
        key: `u${(i + j) % 2_000}`,
        value: { user: `u${(i + j) % 2_000}`, amount: 1 },
      })),
    })
  }
  const changelog = 'app-totals-changelog'
  const caughtUp = async () => {
    const [committed] = await served.log
      .admin()
      .fetchOffsets({ groupId: 'app', topics: ['payments'] })
    const highs = await served.log.offsets('payments')
    return committed!.partitions.every((p) => p.offset === highs[p.partition]!.high)
  }
  await until(caughtUp, 20_000)

  const store = createViewStore<string, number>(client, 'totals')
  closers.push(() => store.close())
  await store.ready
  const first = store.getState()
  expect(first.status).toBe('live')
  expect(first.size).toBe(2_000)
  expect(first.all().reduce((n, e) => n + e.value, 0)).toBe(10_000)
  expect(first.offsets).toEqual((await served.log.offsets(changelog)).map((p) => p.high))

  const states: ViewState<string, number>[] = []
  store.subscribe((state) => states.push(state))
  for (let i = 0; i < 10; i++) {
    await producer.send({
      topic: 'payments',
      messages: Array.from({ length: 50 }, (_, j) => ({
        key: `u${(i * 50 + j) % 2_000}`,
        value: { user: `u${(i * 50 + j) % 2_000}`, amount: 1 },
      })),
    })
  }
  await until(
    async () =>
      (await caughtUp()) &&
      store
        .getState()
        .all()
        .reduce((n, e) => n + e.value, 0) === 10_500,
    20_000,
  )
  const last = store.getState()
  expect(last.offsets).toEqual((await served.log.offsets(changelog)).map((p) => p.high))
  // Each update continued from the one before (offsets only move forward, state by state) ...
  let previous = first.offsets
  for (const state of states) {
    expect(state.offsets.every((o, p) => o >= (previous[p] ?? 0))).toBe(true)
    previous = state.offsets
  }
  // ... and the page holds exactly what the streams store holds.
  expect(last.all().map((e) => [e.key, e.value])).toEqual(
    streams
      .store<string, number>('totals')
      .all()
      .map((e) => [e.key, e.value]),
  )
})

test('ranges and windows: hooks over a slice of a view', async () => {
  const { client, pay } = await setup()
  function Range() {
    const entries = useViewRange<string, number>('totals', { from: 'b', to: 'c' })
    return createElement('p', null, `range: ${entries.map((e) => `${e.key}=${e.value}`).join(',')}`)
  }
  function Windows() {
    const windows = useWindows<string, number>('per-minute', 'ada')
    return createElement(
      'p',
      null,
      `windows: ${windows.map((w) => `${w.window.start}=${w.value}`).join(',')}`,
    )
  }
  render(
    withClient(
      client,
      createElement('div', null, [
        createElement(Range, { key: 'r' }),
        createElement(Windows, { key: 'w' }),
      ]),
    ),
  )
  await pay('ada', 1, 1_000)
  await pay('ada', 16, 30_000)
  await pay('bob', 2, 2_000)
  await pay('ada', 4, 61_000)
  await pay('dan', 8, 62_000)
  await screen.findByText('range: bob=2')
  await screen.findByText('windows: 0=17,60000=4')
  const page = await queryView<string, number>(client, 'totals', { limit: 2 })
  expect(page.entries.map((e) => e.key)).toEqual(['ada', 'bob'])
  const rest = await queryView<string, number>(client, 'totals', { after: page.next! })
  expect(rest.entries.map((e) => [e.key, e.value])).toEqual([['dan', 8]])
})

test('a ranged store mirrors only its range and hears nothing of changes outside it', async () => {
  const { client, pay } = await setup()
  const ranged = createViewStore<string, number>(client, 'totals', {
    range: { from: 'm', to: 'n' },
  })
  const whole = createViewStore<string, number>(client, 'totals')
  closers.push(
    () => ranged.close(),
    () => whole.close(),
  )
  await Promise.all([ranged.ready, whole.ready])
  let updates = 0
  ranged.subscribe(() => updates++)
  await Promise.all([pay('ada', 1), pay('zed', 2), pay('bob', 3)])
  // The whole view has them: had the ranged store been sent anything, it would have it by now.
  await until(() => whole.getState().size === 3)
  await pay('mia', 4)
  await until(() => ranged.getState().get('mia') === 4)
  expect(updates).toBe(1)
  expect(
    ranged
      .getState()
      .all()
      .map((e) => e.key),
  ).toEqual(['mia'])
  // Its offsets carried over the diffs it was not sent: it is where the whole view is.
  await until(() => whole.getState().get('mia') === 4)
  expect(ranged.getState().offsets).toEqual(whole.getState().offsets)
})

test('createAppend resolves once the record is committed; an unknown view is an error state', async () => {
  const { client } = await setup()
  const append = createAppend<Events>(client)
  const meta = await append('payments', { user: 'ada', amount: 1 }, { key: 'ada' })
  const chunk = await client.fetch({
    topic: 'payments',
    partition: meta.partition,
    offset: meta.baseOffset,
  })
  expect(chunk.records[0]!.value).toEqual({ user: 'ada', amount: 1 })
  const store = createViewStore(client, 'nope')
  closers.push(() => store.close())
  await expect(store.ready).rejects.toThrow(/No view "nope"/)
  expect(store.getState().status).toBe('error')
})

test('a selector that throws reaches its error boundary; the other components and views keep moving', async () => {
  const { client, pay } = await setup()
  class Boundary extends Component<{ children: ReactNode }, { error: Error | null }> {
    override state = { error: null as Error | null }
    static getDerivedStateFromError(error: Error) {
      return { error }
    }
    override render() {
      return this.state.error
        ? createElement('p', null, `caught: ${this.state.error.message}`)
        : this.props.children
    }
  }
  // A selector with a bug that shows only once the total passes 5.
  function Fragile() {
    const total = useView<string, number, number | undefined>('totals', (s) => {
      const value = s.get('ada')
      if (value !== undefined && value > 5) throw new Error(`selector broke at ${value}`)
      return value
    })
    return createElement('p', null, `ada ${total ?? '-'}`)
  }
  function Sturdy() {
    return createElement('p', null, `bob ${useViewKey<string, number>('totals', 'bob') ?? '-'}`)
  }
  function Minutes() {
    const windows = useWindows<string, number>('per-minute', 'bob')
    return createElement('p', null, `bob per minute ${windows.map((w) => w.value).join(',')}`)
  }
  // React reports what a boundary caught on console.error: expected here, and asserted.
  const logged: unknown[] = []
  const error = console.error
  console.error = (...args: unknown[]) => void logged.push(args)
  closers.push(() => (console.error = error))
  render(
    withClient(
      client,
      createElement(
        'div',
        null,
        createElement(Boundary, null, createElement(Fragile)),
        createElement(Sturdy),
        createElement(Minutes),
      ),
    ),
  )
  await pay('ada', 3, 60_000)
  await screen.findByText('ada 3')
  await pay('ada', 5, 60_000)
  await screen.findByText('caught: selector broke at 8')
  // The same view in another component, and another view, still follow the log.
  await pay('bob', 2, 60_000)
  await screen.findByText('bob 2')
  await screen.findByText('bob per minute 2')
  await pay('bob', 4, 60_001)
  await screen.findByText('bob 6')
  await screen.findByText('bob per minute 6')
  expect(JSON.stringify(logged.map(String))).toContain('selector broke at 8')
})
