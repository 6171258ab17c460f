/// <reference lib="webworker" />
// The boot suite's served worker, as an app's: serve({ streams }) with a count per key
// (materialized 'totals', so the view 'totals' too), on IndexedDB under the bench's own name.
// Its name is JSON { db, snapshots, mode }: 'fill' appends the events and waits for the topology;
// 'boot' is a cold start on what is stored. It posts a mark for every step of its boot on the
// channel 'duality-bench:boot:<db>' (absolute times, performance.timeOrigin + now()), so the page
// can split its page load -> first view.
import { StreamsBuilder, storeSnapshotLabel } from '../../../src/index.ts'
import type { LogStorage } from '../../../src/log/LogStorage.ts'
import { loadSnapshot, saveSnapshot } from '../../../src/log/TopicSnapshot.ts'
import { idbStorage } from '../../../src/storage/idb/index.ts'
import type { KeyValueStore } from '../../../src/streams/KeyValueStore.ts'
import { storeEntries } from '../../../src/streams/StoreSnapshots.ts'
import { ViewMirror } from '../../../src/worker/views/ViewMirror.ts'
import { packSnapshot } from '../../../src/worker/views/viewWire.ts'
import { serve } from '../../../src/worker/index.ts'

const now = () => performance.timeOrigin + performance.now()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const { db, snapshots, mode } = JSON.parse(self.name) as {
  db: string
  snapshots: boolean
  mode: 'fill' | 'boot'
}
const TOPIC = 'amounts'
const APP = 'boot'
const CHANGELOG = `${APP}-totals-changelog`
const channel = new BroadcastChannel(`duality-bench:boot:${db}`)
const mark = (name: string, at = now()) => channel.postMessage({ type: 'mark', name, at })
/** The page has its view (boot): it may come before the topology runs. */
const viewed = new Promise<void>((resolve) => {
  if (mode !== 'boot') return
  channel.onmessage = ({ data }: MessageEvent<{ type: string }>) => {
    if (data.type === 'viewed') resolve()
  }
})
mark('worker created', performance.timeOrigin)
// The view's first message (its snapshot): mark where its post starts and ends (comlink calls the
// page's listener over a MessagePort with the message as the call's first argument).
const post = MessagePort.prototype.postMessage
MessagePort.prototype.postMessage = function (this: MessagePort, ...args: unknown[]) {
  const call = args[0] as { argumentList?: { value?: { type?: string } }[] } | undefined
  const first = !posted && call?.argumentList?.[0]?.value?.type === 'snapshot'
  const started = now()
  ;(post as (...a: unknown[]) => void).apply(this, args)
  if (first) {
    posted = true
    mark('view message post start', started)
    mark('view message post end')
  }
} as typeof post
let posted = false
mark('worker script running')

// serve() is called at once, as an app's worker does: a page's call that arrived before it exposes
// its API would be lost. The storage opens meanwhile; its reads of the snapshots store are marked.
const opening = idbStorage({ name: db }).then((inner) => {
  mark('IndexedDB open')
  return inner
})
const storage: LogStorage = {
  kind: 'indexeddb',
  async read(stores, body) {
    const inner = await opening
    if (!stores.includes('snapshots')) return inner.read(stores, body)
    mark('snapshot read start')
    return inner.read(stores, body).finally(() => mark('snapshot read end'))
  },
  write: async (stores, body, options) => (await opening).write(stores, body, options),
  close: async () => (await opening).close(),
}

const builder = new StreamsBuilder()
builder.stream<string, number>(TOPIC).groupByKey().count({ materialized: 'totals' })
const topology = builder.build()
const label = storeSnapshotLabel(topology, 'totals')
const streamsConfig = { applicationId: APP, ...(snapshots ? {} : { snapshots: false as const }) }
const served = await serve({
  name: db,
  storage,
  topics: [{ topic: TOPIC, numPartitions: 3 }],
  streams: { ...streamsConfig, topology },
})
const streams = served.streams!
// serve({ streams }) resolves once its topology has restored its store and runs.
if (streams.currentState !== 'RUNNING') throw new Error(`topology is ${streams.currentState}`)
mark('topology running')
const { log } = served
const admin = log.admin()

/** The input's end and the group's committed position: caught up when they meet. */
async function behind(): Promise<number> {
  const [input, [committed]] = await Promise.all([
    admin.fetchTopicOffsets(TOPIC),
    admin.fetchOffsets({ groupId: APP, topics: [TOPIC] }),
  ])
  let left = 0
  for (const p of input)
    left += p.high - (committed!.partitions.find((c) => c.partition === p.partition)?.offset ?? 0)
  return left
}

if (mode === 'boot') {
  const left = await behind()
  mark(left === 0 ? 'caught up' : `behind by ${left}`)
  // The first commit of new input: one record appended once the page has its view (so that it
  // does not slow the view's boot), processed and committed.
  await viewed
  mark('append')
  const committed = new Promise<void>((resolve) => {
    const off = log.onAppend((events) => {
      if (!events.some((e) => e.topic === CHANGELOG)) return
      off()
      resolve()
    })
  })
  await log.producer().send({ topic: TOPIC, messages: [{ key: 'k0', value: 1 }] })
  await committed
  mark('first commit')
} else {
  channel.onmessage = async ({
    data,
  }: MessageEvent<{ type: string; events: number; keys: number }>) => {
    if (data.type !== 'fill') return
    try {
      channel.postMessage({ type: 'filled', ...(await fill(data.events, data.keys)) })
    } catch (error) {
      channel.postMessage({ type: 'failed', message: String((error as Error)?.stack ?? error) })
    }
  }
  channel.postMessage({ type: 'fill-ready' })
}

/** Appends `events` over `keys` keys (sends of 1,000, 10 in flight), then waits for the topology. */
async function fill(events: number, keys: number) {
  const producer = log.producer()
  const started = performance.now()
  const window: Promise<unknown>[] = []
  for (let i = 0; i < events; i += 1000) {
    window.push(
      producer.send({
        topic: TOPIC,
        messages: Array.from({ length: Math.min(1000, events - i) }, (_, j) => ({
          key: `k${(i + j) % keys}`,
          value: 1,
        })),
      }),
    )
    if (window.length === 10) await Promise.all(window.splice(0))
  }
  await Promise.all(window)
  const fillMs = performance.now() - started
  while ((await behind()) > 0) await sleep(20)
  const caughtUpMs = performance.now() - started
  const [changelog] = await admin.fetchTopicOffsets(CHANGELOG)
  const end = changelog!.high
  const result: Record<string, unknown> = { fillMs, caughtUpMs, changelog: changelog! }
  const store = topology.stores.get('totals') as KeyValueStore<string, number>
  if (store.approximateNumEntries() !== Math.min(keys, events))
    throw new Error(`the store has ${store.approximateNumEntries()} keys, not ${keys}`)
  if (snapshots) {
    // The instance's own snapshot, written when it went idle (or at its last commits).
    let at = -1
    for (let i = 0; i < 500 && at !== end; i++) {
      const { snapshot } = await loadSnapshot(log, CHANGELOG, label)
      at = snapshot?.offsets[0] ?? -1
      if (at !== end) await sleep(20)
    }
    result.snapshotAt = at
    await streams.close() // nothing written behind our back below
    result.write = await writeCost(store, end)
    result.isolated = await isolated(true)
  } else {
    await streams.close()
    result.isolated = await isolated(false)
  }
  await served.close()
  return result
}

/**
 * One snapshot write of the store as StoreSnapshots does it (storeEntries and the packing run
 * synchronously, then one IndexedDB transaction), three times: total time, the synchronous part,
 * and the longest gap of a MessageChannel ping loop meanwhile (the worker's event loop stalled).
 */
async function writeCost(store: KeyValueStore<string, number>, end: number) {
  const runs: { ms: number; syncMs: number; stallMs: number }[] = []
  for (let r = 0; r < 3; r++) {
    const ping = new MessageChannel()
    let last = performance.now()
    let stallMs = 0
    let pinging = true
    ping.port1.onmessage = () => {
      const t = performance.now()
      stallMs = Math.max(stallMs, t - last)
      last = t
      if (pinging) ping.port2.postMessage(0)
    }
    ping.port2.postMessage(0)
    await sleep(20)
    stallMs = 0
    const started = performance.now()
    const written = saveSnapshot(log, {
      topic: CHANGELOG,
      offsets: [end],
      label,
      entries: storeEntries(store),
    })
    const syncMs = performance.now() - started
    await written
    const ms = performance.now() - started
    await sleep(20)
    pinging = false
    ping.port1.close()
    runs.push({ ms, syncMs, stallMs })
  }
  runs.sort((a, b) => a.ms - b.ms)
  return runs[1]!
}

/**
 * The view's boot steps one at a time in this (warm) worker: the snapshot's read and decode, a
 * fresh mirror's load (snapshot or the whole changelog, then its tail), the key sort of the
 * subscription's first message, and its packing and structured clone (what postMessage copies).
 */
async function isolated(withSnapshot: boolean) {
  const out: Record<string, number> = {}
  let t = performance.now()
  if (withSnapshot) {
    const { snapshot } = await loadSnapshot(log, CHANGELOG, label)
    out.snapshotReadDecodeMs = performance.now() - t
    out.snapshotEntries = snapshot?.entries.length ?? 0
    t = performance.now()
  }
  const mirror = new ViewMirror(log, CHANGELOG, withSnapshot ? label : undefined)
  await mirror.loaded
  out.mirrorLoadMs = performance.now() - t
  t = performance.now()
  const keys = mirror.sortedKeys()
  const entries = keys.map((k) => mirror.entries.get(k)!)
  out.sortMs = performance.now() - t
  t = performance.now()
  structuredClone(packSnapshot(entries, mirror.offsets))
  out.cloneMs = performance.now() - t
  mirror.close()
  return out
}
