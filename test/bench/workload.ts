import type { Row, SuiteOptions, WorkloadId } from './protocol.ts'

/** The event every peer stores; the same shape and values for all of them. */
export interface BenchEvent {
  id: number
  user: string
  amount: number
  currency: string
  note: string
}

/** A record as the peers see it: a key, a timestamp and the event. */
export interface Item {
  key: string
  timestamp: number
  value: BenchEvent
}

const BASE_TIME = 1_700_000_000_000

/** Event `i`: key 'user-' + (i % 1000), timestamps 1 ms apart. */
export function makeItem(i: number): Item {
  const user = 'user-' + (i % 1000)
  return {
    key: user,
    timestamp: BASE_TIME + i,
    value: { id: i, user, amount: i % 977, currency: 'EUR', note: 'coffee' },
  }
}

/** Fresh objects per workload: Dexie writes its key into them, so they are never shared. */
export function makeItems(n: number): Item[] {
  const items: Item[] = new Array(n)
  for (let i = 0; i < n; i++) items[i] = makeItem(i)
  return items
}

/** The sum of amounts of events 0..n-1: a scan must return it, proving it read every value. */
export function expectedSum(n: number): number {
  let sum = 0
  for (let i = 0; i < n; i++) sum += i % 977
  return sum
}

export interface Timing {
  events: number
  ms: number
  /** The workload hit its time budget before doing all its events. */
  stopped?: boolean
}

export function row(id: string, peer: string, workload: string, t: Timing, note?: string): Row {
  const { events, ms } = t
  const notes = [note, t.stopped ? 'stopped at the time budget' : undefined].filter(Boolean)
  const r: Row = { id, peer, workload, events, repeats: 1, ms, eventsPerSec: events / (ms / 1000) }
  if (notes.length) r.note = notes.join('; ')
  return r
}

const kilo = (n: number) => (n >= 10_000 ? `${Math.round(n / 1000)}k` : String(Math.round(n)))

/**
 * Runs `measure` (which uses fresh databases) `times` times and keeps, per row id, the run with the
 * median events/s: a workload of a few hundred ms is noisy on a busy 2-core machine. Every row
 * says how many runs it is the median of (`repeats`).
 */
export async function medianOf(times: number, measure: () => Promise<Row[]>): Promise<Row[]> {
  const runs: Row[][] = []
  for (let i = 0; i < times; i++) runs.push(await measure())
  if (runs.length < 2) return (runs[0] ?? []).map((r) => ({ ...r, repeats: runs.length }))
  return runs[0]!.map(({ id }) => {
    const all = runs.map((rows) => rows.find((r) => r.id === id)!)
    all.sort((a, b) => a.eventsPerSec - b.eventsPerSec)
    const median = all[Math.floor(all.length / 2)]!
    const range = `median of ${times}: ${kilo(all[0]!.eventsPerSec)}-${kilo(all.at(-1)!.eventsPerSec)}/s`
    return { ...median, repeats: times, note: [median.note, range].filter(Boolean).join('; ') }
  })
}

/** One of a peer's workloads: what progress says, and a run of it (on fresh databases) with `o`. */
export type PeerWorkload = [label: string, run: (o: SuiteOptions) => Promise<Row[]>]

/**
 * How every peer measures its workloads, so that none gets more events, repeats or warm-up than
 * another: first each workload once, untimed, at a tenth of its events (the JIT and the storage
 * warm up), then each `o.repeats` times with `o.workloads`' sizes, the median run reported.
 */
export async function runWorkloads(
  o: SuiteOptions,
  progress: (message: string) => void,
  workloads: PeerWorkload[],
): Promise<Row[]> {
  progress('warm-up')
  const warm: SuiteOptions = { ...o, workloads: { ...o.workloads } }
  for (const id of Object.keys(warm.workloads) as WorkloadId[]) {
    const w = warm.workloads[id]
    warm.workloads[id] = { ...w, events: Math.max(100, Math.ceil(w.events / 10)) }
  }
  for (const [, run] of workloads) await run(warm)
  const rows: Row[] = []
  for (const [label, run] of workloads) {
    progress(o.repeats > 1 ? `${label} (${o.repeats} runs)` : label)
    rows.push(...(await medianOf(o.repeats, () => run(o))))
  }
  return rows
}

/**
 * Runs `step(from, count)` over `total` events, `size` at a time, timed. Stops early once
 * `budgetMs` has passed, so a slow machine shortens a workload instead of the whole run timing out.
 * Returns the events actually done and the elapsed ms.
 */
export async function timedLoop(
  total: number,
  size: number,
  budgetMs: number,
  step: (from: number, count: number) => Promise<unknown>,
): Promise<Timing> {
  const start = performance.now()
  let done = 0
  while (done < total) {
    const count = Math.min(size, total - done)
    await step(done, count)
    done += count
    if (performance.now() - start > budgetMs) break
  }
  return { events: done, ms: performance.now() - start, stopped: done < total }
}

/** Fires `count` single-record operations at once and waits for all, like an app firing sends. */
export function concurrently<T>(
  items: T[],
  from: number,
  count: number,
  op: (item: T) => Promise<unknown>,
) {
  const pending: Promise<unknown>[] = new Array(count)
  for (let j = 0; j < count; j++) pending[j] = op(items[from + j]!)
  return Promise.all(pending)
}

export function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(name)
    req.onsuccess = () => resolve()
    req.onerror = () => reject(req.error)
    // 'blocked' means a connection is still open; the delete proceeds once it closes.
  })
}

/** Runs `body` on a freshly deleted database and deletes it afterwards, even on failure. */
export async function withFreshDatabase<T>(name: string, body: () => Promise<T>): Promise<T> {
  await deleteDatabase(name)
  try {
    return await body()
  } finally {
    await deleteDatabase(name)
  }
}

export function check(what: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${what}: got ${got}, expected ${want}`)
}
