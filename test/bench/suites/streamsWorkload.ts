/**
 * The streams workloads, shared by the worker suite (IndexedDB, suites/streams.ts) and the Node
 * one (memory storage, suites/streamsNode.ts, loaded by the runner through Vite's ssrLoadModule).
 *
 * Each workload writes `events` records to a 1-partition topic (untimed), then times a KafkaStreams
 * instance replaying them: from `new KafkaStreams(...)` until the group's committed offset reaches
 * the topic's high watermark (polled every 20 ms). The store is then checked against the input.
 */
import {
  DEFAULT_MAX_RECORDS_PER_BATCH,
  KafkaStreams,
  StreamsBuilder,
  TimeWindows,
  type Log,
} from '../../../src/index.ts'
import type { Row } from '../protocol.ts'
import { check, makeItem, row } from '../workload.ts'

const TOPIC = 'events'
const WRITE_BATCH = 1000
const POLL_MS = 20
const WINDOW_MS = 60_000

export type Workload = 'count' | 'window'

export interface StreamsTarget {
  /** Row id prefix ('streams' or 'streams-node') and peer name. */
  id: string
  peer: string
  /** Opens a log on a fresh, empty storage named `name`. */
  open(name: string): Promise<Log>
  /** Runs `body` on a fresh database and removes it afterwards (IndexedDB); memory: just runs. */
  fresh<T>(name: string, body: () => Promise<T>): Promise<T>
}

/** Writes events 0..n-1 in sends of 1,000 (not timed). */
async function writeEvents(log: Log, n: number): Promise<void> {
  await log.admin().createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }] })
  const producer = log.producer()
  for (let from = 0; from < n; from += WRITE_BATCH) {
    const count = Math.min(WRITE_BATCH, n - from)
    const messages = new Array<{ key: string; value: unknown; timestamp: number }>(count)
    for (let j = 0; j < count; j++) messages[j] = makeItem(from + j)
    await producer.send({ topic: TOPIC, messages })
  }
}

function topology(workload: Workload) {
  const builder = new StreamsBuilder()
  const grouped = builder.stream<string, unknown>(TOPIC).groupByKey()
  if (workload === 'count') grouped.count({ materialized: 'counts' })
  else grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(WINDOW_MS)).count({ materialized: 'win' })
  return builder.build()
}

/** What the store must hold after events 0..n-1: its keys and the sum of its counts. */
function expected(workload: Workload, n: number): { keys: number; total: number } {
  if (workload === 'count') return { keys: Math.min(n, 1000), total: n }
  const keys = new Set<string>()
  for (let i = 0; i < n; i++) {
    const { key, timestamp } = makeItem(i)
    keys.add(`${Math.floor(timestamp / WINDOW_MS)}/${key}`)
  }
  return { keys: keys.size, total: n }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Replays the topic through the workload's topology; returns the ms until the commit caught up. */
async function replay(
  log: Log,
  workload: Workload,
  maxRecordsPerBatch: number,
  appId: string,
  timeAsOf = false,
) {
  const high = (await log.offsets(TOPIC))[0]!.high
  const admin = log.admin()
  const start = performance.now()
  const streams = new KafkaStreams(topology(workload), log, {
    applicationId: appId,
    maxRecordsPerBatch,
  })
  try {
    await streams.start()
    for (;;) {
      if (streams.currentState === 'ERROR') throw streams.lastError
      const [committed] = await admin.fetchOffsets({ groupId: appId, topics: [TOPIC] })
      if ((committed?.partitions[0]?.offset ?? -1) >= high) break
      await sleep(POLL_MS)
    }
    const ms = performance.now() - start
    const store = streams.store<unknown, number>(workload === 'count' ? 'counts' : 'win')
    const entries = store.all()
    const want = expected(workload, high)
    check(`${workload} store keys`, entries.length, want.keys)
    check(
      `${workload} store total`,
      entries.reduce((sum, e) => sum + e.value, 0),
      want.total,
    )
    // The view as of the middle of the input (KafkaStreams.asOf): read and replayed from offset 0
    // on scratch stores while the live instance stays as it is.
    let asOfMs: number | undefined
    if (timeAsOf) {
      const middle = Math.floor(high / 2)
      const asOfStart = performance.now()
      const at = await streams.asOf({ offsets: { [TOPIC]: [middle] } })
      asOfMs = performance.now() - asOfStart
      const replayed = at.stores.get(workload === 'count' ? 'counts' : 'win')!
      check(
        `${workload} asOf total`,
        replayed.reduce((sum, e) => sum + (e.value as number), 0),
        middle,
      )
      check(`${workload} live store after asOf`, store.all().length, entries.length)
    }
    return { ms, keys: entries.length, asOfMs }
  } finally {
    await streams.close()
  }
}

const WORKLOAD_NAMES: Record<Workload, string> = {
  count: 'replay: groupByKey().count()',
  window: 'replay: 1-min tumbling window count()',
}

/** One workload on a fresh storage: write `events`, replay, check. */
async function measure(
  t: StreamsTarget,
  workload: Workload,
  maxRecordsPerBatch: number,
  events: number,
): Promise<Row[]> {
  const name = `bench-streams-${workload}-${maxRecordsPerBatch}`
  return t.fresh(name, async () => {
    const log = await t.open(name)
    try {
      await writeEvents(log, events)
      const appId = `bench-${workload}`
      const byDefault = maxRecordsPerBatch === DEFAULT_MAX_RECORDS_PER_BATCH
      const r = await replay(log, workload, maxRecordsPerBatch, appId, byDefault)
      const isDefault = byDefault ? ' (default)' : ''
      const note = `maxRecordsPerBatch ${maxRecordsPerBatch}${isDefault}; ${r.keys} keys in store`
      const rows = [
        row(
          `${t.id}.${workload}@${maxRecordsPerBatch}`,
          t.peer,
          `${WORKLOAD_NAMES[workload]}, batch ${maxRecordsPerBatch}`,
          { events, ms: r.ms },
          note,
        ),
      ]
      if (r.asOfMs !== undefined)
        rows.push(
          row(
            `${t.id}.${workload}.asOf`,
            t.peer,
            `${WORKLOAD_NAMES[workload]} as of the middle (asOf)`,
            { events: Math.floor(events / 2), ms: r.asOfMs },
            `read and replayed from offset 0 to ${Math.floor(events / 2)} on scratch stores`,
          ),
        )
      return rows
    } finally {
      await log.close()
    }
  })
}

/** The suite: a small warm-up, then count@1000, count@10000, window@1000, window@10000. */
export async function runStreams(
  t: StreamsTarget,
  events: number,
  progress: (message: string) => void,
): Promise<Row[]> {
  progress('warm-up')
  await measure(t, 'count', 1000, Math.min(events, 20_000))
  await measure(t, 'window', 1000, Math.min(events, 20_000))
  const rows: Row[] = []
  for (const workload of ['count', 'window'] as const) {
    for (const batch of [1000, 10_000]) {
      progress(`${workload}, maxRecordsPerBatch ${batch}, ${events} events`)
      rows.push(...(await measure(t, workload, batch, events)))
    }
  }
  return rows
}
