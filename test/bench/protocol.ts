/** The page <-> worker messages as one tagged union, imported by both sides. */

/** One measured figure. `id` is stable (e.g. 'raw-packed.send@1000'): the report's ratios use it. */
export interface Row {
  id: string
  /** Who is measured, e.g. 'raw IndexedDB, packed rows'. */
  peer: string
  /** What is measured, e.g. 'send, batch 1000'. */
  workload: string
  /** The events of the reported run (fewer than its workload's only if it hit the budget). */
  events: number
  /**
   * The runs the figure is the median of (1: a single run). Set on every throughput row; the
   * latency rows of the page suites (cross-tab, views) are one run of `events` samples.
   */
  repeats?: number
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

/**
 * The workloads peers are compared on. A row's id is `<peer>.<workload>` (e.g. 'dexie.send@1000'),
 * and every peer of a workload runs it with the same `Workload`: the same events, the same budget.
 */
export type WorkloadId = 'send@1' | 'send@1-concurrent' | 'send@100' | 'send@1000'

export interface Workload {
  /** Events every peer sends in one run ('send@1000': then scans them back). */
  events: number
  /**
   * A ceiling, not a pace: a run past it stops early, so that a very slow machine shortens a
   * workload instead of timing out the whole bench. Its row then says so (fewer `events`), and a
   * check comparing it to another peer reports the samples as unequal instead of met.
   */
  budgetMs: number
}

export interface SuiteOptions {
  /** The one definition of the workload sizes (run.mjs): every peer reads its sizes from here. */
  workloads: Record<WorkloadId, Workload>
  /** Every peer runs every workload this many times and reports the median run (`Row.repeats`). */
  repeats: number
  /** The worker-client suite's runs of each of its two sides, alternating (ratios per repeat). */
  pairedRepeats: number
  /** Outstanding sends/transactions per window in 'send@1-concurrent'. */
  window: number
  /** Records per read when scanning. */
  scanChunk: number
  /** Events each streams replay workload writes, then replays (the streams suite). */
  streamsEvents: number
  /** Events stored before the boot suite's cold page loads (count per key, fill not timed). */
  bootEvents: number
}

export type SuiteResult = { rows: Row[] } | { skipped: string }

export type PageRequest = { type: 'run'; suite: string; options: SuiteOptions }

export type WorkerReply =
  | { type: 'progress'; message: string }
  | { type: 'done'; result: SuiteResult }
  | { type: 'error'; message: string; stack?: string }
