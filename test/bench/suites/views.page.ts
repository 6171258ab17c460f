/**
 * The views suite's page side: a served worker running a topology (views.worker.ts), and a zustand
 * store of its view 'totals' in this page (duality/zustand). Latency is from the start of a send in
 * the page to the store's listener seeing the new value; the runner (views.mjs) reads the page's
 * main-thread time around each measurement.
 */
import { connect, type Client } from '../../../src/worker/index.ts'
import { createViewStore, type ViewStore } from '../../../src/zustand/index.ts'
import { deleteDatabase } from '../workload.ts'

const TOPIC = 'amounts'
const CHANGELOG = 'bench-totals-changelog'

/** The worker's commit times (views.worker.ts), on the same clock as `now()`. */
const commits: { topics: string[]; at: number }[] = []
new BroadcastChannel('duality-bench:views-marks').onmessage = ({ data }) => void commits.push(data)
const now = () => performance.timeOrigin + performance.now()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let tab:
  { db: string; worker: Worker; client: Client; store: ViewStore<string, number> } | undefined

function opened() {
  if (!tab) throw new Error('open() first')
  return tab
}

/** Resolves when the store's state satisfies `done` (checked now and at every update). */
function until(
  store: ViewStore<string, number>,
  done: (s: ReturnType<typeof store.getState>) => boolean,
) {
  return new Promise<number>((resolve) => {
    if (done(store.getState())) return resolve(performance.now())
    const off = store.subscribe((state) => {
      if (!done(state)) return
      off()
      resolve(performance.now())
    })
  })
}

/**
 * A fresh database with `keys` keys of value 1 (sent in sends of 1,000, then processed by the
 * topology); the store is created afterwards, so it starts from a snapshot of them all.
 */
export async function open(db: string, keys: number): Promise<{ snapshotMs: number }> {
  await deleteDatabase(db)
  const worker = new Worker(new URL('./views.worker.ts', import.meta.url), {
    type: 'module',
    name: db,
  })
  const client = connect(worker)
  const producer = client.producer()
  for (let i = 0; i < keys; i += 1000) {
    await producer.send({
      topic: TOPIC,
      messages: Array.from({ length: Math.min(1000, keys - i) }, (_, j) => ({
        key: `k${i + j}`,
        value: 1,
      })),
    })
  }
  // Wait until the topology has processed them: a probe store sees every key.
  const probe = createViewStore<string, number>(client, 'totals')
  await until(probe, (s) => s.size === keys)
  probe.close()
  const started = performance.now()
  const store = createViewStore<string, number>(client, 'totals')
  await store.ready
  const snapshotMs = performance.now() - started
  if (store.getState().size !== keys) throw new Error(`snapshot has ${store.getState().size} keys`)
  tab = { db, worker, client, store }
  return { snapshotMs }
}

/**
 * Each sample's latency split: send start -> append committed, then from there to the listener and,
 * apart, to the topology's changelog commit (views no longer wait for it: ChangelogPreview).
 */
export interface Phases {
  append: number[]
  /** Append committed -> the topology's preview of the batch (woken, read, processed). */
  process: number[]
  /** Preview -> the page's listener (worker mirror, frame batcher, message, store). */
  view: number[]
  streams: number[]
}

/**
 * `count` sends of one record, one at a time with 10-20 ms between them; for each, the time from
 * the start of the send to the store's listener holding the new value.
 */
export async function latency(
  count: number,
  keys: number,
  announce = false,
): Promise<{ latencies: number[]; acks: number[]; phases: Phases }> {
  const { client, store } = opened()
  const producer = client.producer()
  const out: number[] = []
  const acks: number[] = []
  const phases: Phases = { append: [], process: [], view: [], streams: [] }
  for (let i = 0; i < count; i++) {
    const key = `k${(i * 7919) % keys}`
    const expected = (store.getState().get(key) ?? 0) + 1
    commits.length = 0
    const startedAt = now()
    const started = performance.now()
    // Told before the send: the other tab's listener stamps the same change (follow()).
    if (announce) expectations.postMessage({ key, expected, startedAt } satisfies Expectation)
    const seen = until(store, (s) => s.get(key) === expected)
    const sent = producer
      .send({ topic: TOPIC, messages: [{ key, value: 1 }] })
      .then(() => acks.push(performance.now() - started))
    const at = await seen
    const seenAt = now()
    await sent
    out.push(at - started)
    // The changelog's commit mark may come after the listener: wait for it (bounded).
    for (let i = 0; i < 50 && !commits.some((c) => c.topics.includes(CHANGELOG)); i++)
      await sleep(2)
    // Which commit was the append, which the topology's (its changelog write) for this sample.
    const append = commits.find((c) => c.topics.includes(TOPIC))
    const streams = commits.find((c) => c.topics.includes(CHANGELOG))
    const preview = commits.find((c) => c.topics.includes('preview'))
    if (append && streams && preview) {
      phases.append.push(append.at - startedAt)
      phases.process.push(preview.at - append.at)
      phases.view.push(seenAt - preview.at)
      phases.streams.push(streams.at - append.at)
    }
    await sleep(10 + ((i * 7) % 11))
  }
  return { latencies: out, acks, phases }
}

/**
 * The same one-at-a-time sends with the store closed (the worker then sends the page no diffs):
 * the main-thread baseline that the view's own cost is the difference from.
 */
export async function sendsOnly(count: number, keys: number): Promise<void> {
  const { client, store } = opened()
  store.close()
  const producer = client.producer()
  for (let i = 0; i < count; i++) {
    await producer.send({ topic: TOPIC, messages: [{ key: `k${(i * 7919) % keys}`, value: 1 }] })
    await sleep(10 + ((i * 7) % 11))
  }
}

/**
 * `events` records sent at once in sends of `perSend` (all in flight together), over `keys` keys;
 * resolves when the store reflects them all. Returns the elapsed ms and the store's updates.
 */
export async function burst(
  events: number,
  perSend: number,
  keys: number,
  from: 'page' | 'worker' = 'page',
): Promise<{ ms: number; updates: number }> {
  const { client, store } = opened()
  const producer = client.producer()
  const before = sum(store.getState().entries())
  let updates = 0
  const off = store.subscribe(() => updates++)
  const started = performance.now()
  if (from === 'worker') {
    commits.length = 0
    feed.postMessage({ events, perSend, keys })
    while (!commits.some((c) => c.topics.includes('feed-done'))) await sleep(20)
  } else {
    const sends: Promise<unknown>[] = []
    for (let i = 0; i < events; i += perSend) {
      sends.push(
        producer.send({
          topic: TOPIC,
          messages: Array.from({ length: Math.min(perSend, events - i) }, (_, j) => ({
            key: `k${(i + j) % keys}`,
            value: 1,
          })),
        }),
      )
    }
    await Promise.all(sends)
  }
  // Done when the topology has processed every record and the store reflects its changelog's
  // end: found through the worker, so the page does no per-update work of its own to know it.
  const admin = client.admin()
  const input = await admin.fetchTopicOffsets(TOPIC)
  for (;;) {
    const [committed] = await admin.fetchOffsets({ groupId: 'bench', topics: [TOPIC] })
    const done = input.every(
      (p) => committed!.partitions.find((c) => c.partition === p.partition)!.offset >= p.high,
    )
    if (done) break
    await sleep(20)
  }
  const changelog = await admin.fetchTopicOffsets(CHANGELOG)
  await until(store, (s) => changelog.every((p) => (s.offsets[p.partition] ?? 0) >= p.high))
  const ms = performance.now() - started
  off()
  const got = sum(store.getState().entries())
  if (got !== before + events) throw new Error(`burst: view sums to ${got}, not ${before + events}`)
  return { ms, updates }
}

/** A change tab A is about to make, for tab B to stamp when its own store shows it. */
interface Expectation {
  key: string
  expected: number
  /** Tab A's send start, `now()`. */
  startedAt: number
}
const expectations = new BroadcastChannel('duality-bench:views-expect')

let other:
  | {
      worker: Worker
      client: Client
      store: ViewStore<string, number>
      pending: Expectation[]
      latencies: number[]
    }
  | undefined

/**
 * Tab B: a served worker on tab A's database without a topology of its own (views.worker.ts as
 * '<db>#follower', a tab whose instance stands by) and a store of the same view. Every change tab A
 * announces (latency(..., announce)) is stamped when this tab's listener holds it: B's `now()` minus
 * A's send start, one machine's clock.
 */
export async function follow(db: string, keys: number): Promise<void> {
  const worker = new Worker(new URL('./views.worker.ts', import.meta.url), {
    type: 'module',
    name: `${db}#follower`,
  })
  const client = connect(worker)
  const store = createViewStore<string, number>(client, 'totals')
  await until(store, (s) => s.size === keys)
  const tabB = { worker, client, store, pending: [] as Expectation[], latencies: [] as number[] }
  other = tabB
  const check = (state: ReturnType<typeof store.getState>) => {
    const at = now()
    tabB.pending = tabB.pending.filter((e) => {
      if ((state.get(e.key) ?? 0) < e.expected) return true
      tabB.latencies.push(at - e.startedAt)
      return false
    })
  }
  store.subscribe(check)
  // Checked on arrival too: a change this tab already shows counts from when it was told.
  expectations.onmessage = ({ data }: MessageEvent<Expectation>) => {
    tabB.pending.push(data)
    check(store.getState())
  }
}

/** Tab B: the latencies stamped so far (cleared), waiting up to `timeoutMs` for `count`. */
export async function takeOther(
  count: number,
  timeoutMs: number,
): Promise<{ latencies: number[]; missing: number }> {
  if (!other) throw new Error('follow() first')
  const started = performance.now()
  while (other.latencies.length < count && performance.now() - started < timeoutMs) await sleep(20)
  const latencies = other.latencies
  other.latencies = []
  const missing = other.pending.length
  other.pending = []
  return { latencies, missing }
}

/** Asks the worker to append by itself (views.worker.ts). */
const feed = new BroadcastChannel('duality-bench:views-feed')

const sum = (entries: Iterable<{ value: number }>) => {
  let n = 0
  for (const e of entries) n += e.value
  return n
}

export async function close(): Promise<void> {
  if (other) {
    expectations.onmessage = null
    other.store.close()
    other.client.close()
    other.worker.terminate()
    other = undefined
  }
  if (!tab) return
  const { db, worker, client, store } = tab
  tab = undefined
  store.close()
  client.close()
  worker.terminate()
  await deleteDatabase(db)
}
