// The runner's registry of benchmark suites. A suite is
//   { name, title, run(ctx) => Promise<{ rows } | { skipped }>, requiresFiles?, checks? }
// where ctx = { page, context, baseUrl, server, options, progress, launch } (server: the Vite dev
// server, whose ssrLoadModule runs TypeScript suites in the runner's own Node process; launch:
// Chromium's launch options, for a suite that starts browsers of its own). Worker suites run inside one module
// worker of the bench page; suites of other kinds (page -> worker throughput, cross-tab latency)
// can open their own pages from ctx.context and ctx.baseUrl and return rows of the same shape
// (see protocol.ts, Row).
//
// `requiresFiles`: while one of these files is missing, a suite that cannot load is skipped with a
// note; once they all exist, failing to load is an error.
//
// `checks`: ratios and targets printed under the table. A check is
//   { label, of: [rowId] | [rowId, rowId], min? }
// with one row id the value is that row's events/s, with two it is the first over the second; or,
// for a latency row,
//   { label, of: [rowId], stat: 'p50' | 'p90' | 'p99' | 'max' | 'mean', max? }
// whose value is that statistic in ms, met when at most `max`.
import { runBoot } from './suites/boot.mjs'
import { runCrossTab } from './suites/crossTab.mjs'
import { runViews } from './suites/views.mjs'
import { runWorkerClient } from './suites/workerClient.mjs'

/** A suite that runs in a fresh module worker of the bench page (see bench.worker.ts). */
const inWorker = (name, title, extra = {}) => ({
  name,
  title,
  ...extra,
  run: ({ page, options }) => runInWorker(page, name, options),
})

const runInWorker = (page, name, options) =>
  page.evaluate(([suite, o]) => window.bench.runWorkerSuite(suite, o), [name, options])

/**
 * The streams suite: its workloads in the bench's worker on IndexedDB, then the same ones in this
 * Node process on memory storage (suites/streamsNode.ts, compiled by Vite's ssrLoadModule).
 */
async function runStreams({ page, server, options, progress }) {
  const inWorkerResult = await runInWorker(page, 'streams', options)
  if ('skipped' in inWorkerResult) return inWorkerResult
  let node
  try {
    node = await server.ssrLoadModule('/test/bench/suites/streamsNode.ts')
  } catch (error) {
    return { skipped: `Node import failed: ${error.message}` }
  }
  const nodeRows = await node.run(options, (message) => progress(`streams (Node): ${message}`))
  return { rows: [...inWorkerResult.rows, ...nodeRows] }
}

export const suites = [
  inWorker('raw-idb', 'raw IndexedDB (one row per record; packed rows)'),
  inWorker('dexie', 'Dexie 4'),
  inWorker('duality', 'duality on IndexedDB', {
    requiresFiles: ['src/index.ts', 'src/storage/idb/index.ts'],
    checks: [
      {
        label: 'duality send@1000 / raw packed send@1000',
        of: ['duality.send@1000', 'raw-packed.send@1000'],
        min: 0.5,
      },
      {
        label: 'duality send@1000 / Dexie bulkAdd 1000',
        of: ['duality.send@1000', 'dexie.send@1000'],
        min: 10,
      },
      { label: 'duality scan, events/s', of: ['duality.scan'], min: 1_000_000 },
      {
        label: 'duality send@100 / raw packed send@100',
        of: ['duality.send@100', 'raw-packed.send@100'],
      },
      {
        label: 'duality send@1 concurrent / raw IDB tx-per-record concurrent',
        of: ['duality.send@1-concurrent', 'raw-row.send@1-concurrent'],
      },
      {
        label: 'duality send@1 sequential / raw IDB tx-per-record sequential',
        of: ['duality.send@1', 'raw-row.send@1'],
      },
      {
        label: 'duality send@1000 / raw packed rows of <= 500 send@1000',
        of: ['duality.send@1000', 'raw-packed-500.send@1000'],
      },
      { label: 'duality scan / raw packed scan', of: ['duality.scan', 'raw-packed.scan'] },
      { label: 'duality scan / Dexie chunked scan', of: ['duality.scan', 'dexie.scan'] },
    ],
  }),
  {
    name: 'streams',
    title: 'KafkaStreams replay over the log: worker on IndexedDB, and Node on memory storage',
    requiresFiles: ['src/index.ts', 'src/storage/idb/index.ts', 'src/streams/KafkaStreams.ts'],
    run: runStreams,
    checks: [
      {
        label: 'streams count-by-key replay, default batch 10,000 (worker, IndexedDB), events/s',
        of: ['streams.count@10000'],
        min: 500_000,
      },
      {
        label: 'streams count-by-key replay, batch 1,000 (worker, IndexedDB), events/s',
        of: ['streams.count@1000'],
      },
      {
        label: 'streams window count replay, default batch (worker, IndexedDB), events/s',
        of: ['streams.window@10000'],
      },
      {
        label: 'streams count-by-key: worker IndexedDB / Node memory',
        of: ['streams.count@10000', 'streams-node.count@10000'],
      },
    ],
  },
  {
    name: 'worker-client',
    title: 'duality client in the page (connect) -> served worker, against the worker itself',
    requiresFiles: ['src/worker/index.ts', 'worker/duality.worker.ts'],
    run: runWorkerClient,
    checks: [
      {
        label: 'page send@1000 via connect() / in-worker send@1000',
        of: ['worker-client.page.send@1000', 'worker-client.in-worker.send@1000'],
        min: 0.7,
      },
      {
        label: 'page send@1 concurrent via connect() / in-worker',
        of: ['worker-client.page.send@1-concurrent', 'worker-client.in-worker.send@1-concurrent'],
      },
    ],
  },
  {
    name: 'cross-tab',
    title: 'delivery latency from a send in one tab to a consumer in another',
    requiresFiles: ['src/worker/index.ts', 'worker/duality.worker.ts'],
    run: runCrossTab,
    checks: [
      { label: 'cross-tab delivery p99', of: ['cross-tab.delivery'], stat: 'p99', max: 16 },
      { label: 'cross-tab delivery p50', of: ['cross-tab.delivery'], stat: 'p50' },
    ],
  },
  {
    name: 'views',
    title: 'a view of 10,000 keys as a zustand store in the page (duality/zustand)',
    requiresFiles: ['src/zustand/index.ts', 'src/worker/views/ViewMirror.ts'],
    run: runViews,
    checks: [
      { label: 'views send -> zustand listener p99', of: ['views.latency'], stat: 'p99', max: 16 },
      { label: 'views send -> zustand listener p50', of: ['views.latency'], stat: 'p50', max: 4 },
      {
        label: 'views 2 tabs: send -> same tab listener p50',
        of: ['views.two-tabs.same-tab'],
        stat: 'p50',
        max: 4,
      },
      {
        label: 'views 2 tabs: send -> same tab listener p99',
        of: ['views.two-tabs.same-tab'],
        stat: 'p99',
        max: 16,
      },
      {
        label: 'views 2 tabs: send -> other tab listener p50',
        of: ['views.two-tabs.other-tab'],
        stat: 'p50',
        max: 8,
      },
      {
        label: 'views 2 tabs: send -> other tab listener p99',
        of: ['views.two-tabs.other-tab'],
        stat: 'p99',
        max: 16,
      },
    ],
  },
  {
    name: 'boot',
    title: 'cold page load -> first view, with 1,000,000 events stored (IndexedDB on disk)',
    requiresFiles: ['src/zustand/index.ts', 'src/streams/StoreSnapshots.ts'],
    run: runBoot,
    checks: [
      {
        label: 'boot page load -> first view, 100,000 keys, snapshot (p50 of loads)',
        of: ['boot.first-view.100k'],
        stat: 'p50',
        max: 300,
      },
      {
        label: 'boot page load -> first view, 10,000 keys, snapshot (p50 of loads)',
        of: ['boot.first-view.10k'],
        stat: 'p50',
        max: 100,
      },
    ],
  },
]
