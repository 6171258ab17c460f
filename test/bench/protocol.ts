/** The page <-> worker messages as one tagged union, imported by both sides. */

/** One measured figure. `id` is stable (e.g. 'raw-packed.send@1000'): the report's ratios use it. */
export interface Row {
  id: string
  /** Who is measured, e.g. 'raw IndexedDB, packed rows'. */
  peer: string
  /** What is measured, e.g. 'send, batch 1000'. */
  workload: string
  events: number
  ms: number
  eventsPerSec: number
  note?: string
  /** Latency rows (cross-tab delivery): `events` is the samples, `ms` the time they took. */
  latencyMs?: LatencyStats
  /** Page suites: the page's main-thread task time per 1,000 events (CDP TaskDuration). */
  mainThreadMsPer1k?: number
}

export interface LatencyStats {
  p50: number
  p90: number
  p99: number
  max: number
  mean: number
}

export interface SuiteOptions {
  /** Events for the batched writes and the scans. */
  events: number
  /** Events for batch-1 writes of the raw and Dexie peers (one transaction per record). */
  batch1Events: number
  /** Events for duality's concurrent batch-1 sends. */
  dualityBatch1Events: number
  /** Outstanding sends/transactions per window in the concurrent batch-1 workloads. */
  window: number
  /** Records per read when scanning. */
  scanChunk: number
  /** A batched write workload stops early (and reports what it did) once it has run this long. */
  budgetMs: number
  /** The same for batch-1 workloads, which reach a steady rate quickly. */
  batch1BudgetMs: number
  /** Short workloads (well under a second) run this many times; the median is reported. */
  repeats: number
  /** Events each streams replay workload writes, then replays (the streams suite). */
  streamsEvents: number
}

export type SuiteResult = { rows: Row[] } | { skipped: string }

export type PageRequest = { type: 'run'; suite: string; options: SuiteOptions }

export type WorkerReply =
  | { type: 'progress'; message: string }
  | { type: 'done'; result: SuiteResult }
  | { type: 'error'; message: string; stack?: string }
