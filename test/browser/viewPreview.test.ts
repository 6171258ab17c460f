import { afterEach, expect, test } from 'vitest'
import { connect, type Client } from '../../src/worker/index.ts'
import { createViewStore, type ViewStore } from '../../src/zustand/index.ts'
import { until } from '../support/until.ts'

// The reactive loop in real Chromium, two tabs (two served workers on one IndexedDB database, as
// two tabs have them): a view moves as soon as the topology has processed a durable input record,
// before the changelog commit, in both tabs; never before the input commit; and a worker killed
// between the two commits leaves views that end exactly as an uninterrupted run's.

const CHANGELOG = 'app-totals-changelog'
const open: { worker: Worker; client: Client; store: ViewStore<string, number> }[] = []
afterEach(() => {
  for (const { worker, client, store } of open.splice(0)) {
    store.close()
    client.close()
    worker.terminate()
  }
})

interface Tab {
  worker: Worker
  client: Client
  store: ViewStore<string, number>
  /** Holds the worker's next batch commit ('commit') or next plain append ('append'). */
  hold(kind: 'commit' | 'append'): Promise<{ held: Promise<void>; release(): void }>
  send(key: string, value: number): Promise<unknown>
  /** Its instance runs the topology (the others stand by). */
  running(): boolean
}

/** Opens tabs `a` and `b`; resolves when one of them runs the topology: [that one, the other]. */
async function twoTabs(database: string): Promise<[leader: Tab, follower: Tab]> {
  const a = await tab(database, 'a')
  await a.send('ada', 1)
  await until(() => value(a, 'ada') === 1, 10_000)
  const b = await tab(database, 'b')
  await until(() => value(b, 'ada') === 1, 10_000)
  await until(() => a.running() !== b.running(), 10_000)
  const pair: [Tab, Tab] = a.running() ? [a, b] : [b, a]
  // Settled: every input so far committed by the one that runs.
  await committed(pair[0])
  return pair
}

async function tab(database: string, name: string): Promise<Tab> {
  const control = new BroadcastChannel(`preview-test:${name}`)
  const messages: { type: string; state?: string }[] = []
  let state = 'CREATED'
  control.onmessage = ({ data }) => {
    messages.push(data)
    if (data.type === 'state') state = data.state
  }
  const worker = new Worker(new URL('./previewWorker.ts', import.meta.url), {
    type: 'module',
    name: `${database}|${name}`,
  })
  await until(() => messages.some((m) => m.type === 'served'), 20_000)
  const client = connect(worker)
  const store = createViewStore<string, number>(client, 'totals')
  await store.ready
  open.push({ worker, client, store })
  return {
    worker,
    client,
    store,
    running: () => state === 'RUNNING',
    async hold(kind) {
      messages.length = 0
      control.postMessage({ type: 'hold', kind })
      // The worker's word that it holds: a send made before it could overtake the message.
      await until(() => messages.some((m) => m.type === 'holding'), 10_000)
      return {
        held: until(() => messages.some((m) => m.type === 'held'), 10_000).then(() => undefined),
        release: () => control.postMessage({ type: 'release' }),
      }
    },
    send: (key, value) => client.producer().send({ topic: 'payments', messages: [{ key, value }] }),
  }
}

const high = async (client: Client, topic: string) =>
  (await client.admin().fetchTopicOffsets(topic)).reduce((n, p) => n + p.high, 0)

const value = (t: Tab, key: string) => t.store.getState().get(key)

/** Until the topology has committed every input record (views move before that). */
const committed = (t: Tab) =>
  until(async () => {
    const [group] = await t.client.admin().fetchOffsets({ groupId: 'app', topics: ['payments'] })
    const done = group!.partitions.reduce((n, p) => n + Math.max(0, p.offset), 0)
    return done === (await high(t.client, 'payments'))
  }, 10_000)

test('both tabs see a send once its input is committed and processed, before the changelog commit', async () => {
  // `a` runs the topology, `b` stands by; b's sends reach a's instance through the log.
  const [a, b] = await twoTabs(`preview-order-${Date.now()}`)

  // a's batch commit is held: the send from b is durable, the changelog is not written yet.
  const changelog = await high(a.client, CHANGELOG)
  const commit = await a.hold('commit')
  await b.send('ada', 4)
  await commit.held
  await until(() => value(a, 'ada') === 5 && value(b, 'ada') === 5, 10_000)
  expect(await high(b.client, CHANGELOG)).toBe(changelog)
  expect(await high(b.client, 'payments')).toBe(2)
  // Their offsets are those the changelog has once the commit lands.
  expect(a.store.getState().offsets).toEqual([changelog + 1])
  expect(b.store.getState().offsets).toEqual([changelog + 1])
  commit.release()
  await until(async () => (await high(b.client, CHANGELOG)) === changelog + 1, 10_000)

  // Never before the input commit: b's next append is held while a's send goes through; once
  // a's value shows in both tabs, b's (sent earlier) has shown in neither.
  const append = await b.hold('append')
  const held = b.send('bob', 5)
  await append.held
  await a.send('cyd', 1)
  await until(() => value(a, 'cyd') === 1 && value(b, 'cyd') === 1, 10_000)
  expect(value(a, 'bob')).toBeUndefined()
  expect(value(b, 'bob')).toBeUndefined()
  append.release()
  await held
  await until(() => value(a, 'bob') === 5 && value(b, 'bob') === 5, 10_000)
}, 60_000)

test('a worker terminated between the input commit and the changelog commit: views end exact', async () => {
  const database = `preview-kill-${Date.now()}`
  const [a, b] = await twoTabs(database)
  const sent: [string, number][] = [['ada', 1]]
  const send = async (t: Tab, key: string, amount: number) => {
    await t.send(key, amount)
    sent.push([key, amount])
  }
  await send(b, 'bob', 2)
  await until(() => value(b, 'bob') === 2, 10_000)
  await committed(a)

  // a processes b's send and shows it, then dies before its commit.
  const commit = await a.hold('commit')
  await send(b, 'ada', 10)
  await commit.held
  await until(() => value(b, 'ada') === 11, 10_000)
  const changelog = await high(b.client, CHANGELOG)
  a.worker.terminate()
  // More input while b's worker takes the topology over and reprocesses from the last commit.
  await send(b, 'ada', 100)
  await send(b, 'cyd', 5)
  await until(async () => (await high(b.client, CHANGELOG)) > changelog, 20_000)

  const expected = new Map<string, number>()
  for (const [key, amount] of sent) expected.set(key, (expected.get(key) ?? 0) + amount)
  const state = (t: Tab) =>
    Object.fromEntries([...t.store.getState().entries()].map((e) => [e.key, e.value]))
  await until(() => value(b, 'ada') === expected.get('ada') && value(b, 'cyd') === 5, 20_000)
  expect(state(b)).toEqual(Object.fromEntries(expected))
  // A restarted tab boots from the log to the same state: every input counted once.
  const c = await tab(database, 'c')
  await until(() => value(c, 'cyd') === 5, 10_000)
  expect(state(c)).toEqual(Object.fromEntries(expected))
}, 90_000)
