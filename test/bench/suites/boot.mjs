// Suite 'boot': cold page load -> first view with `bootEvents` (1,000,000) events stored. For each
// variant (10,000 and 100,000 keys, with and without store snapshots) a browser on a profile of its
// own fills the database once (boot.page.ts?mode=fill: the events appended in the worker, the
// topology caught up, the snapshot write's cost measured), then is closed; each of `repeats` cold
// loads then launches a new browser on that profile (IndexedDB on disk, no page or worker warm)
// and opens boot.html, whose page starts the served worker and a zustand store of the view. The
// figure: navigation start -> the store's first listener call with every key. The worker's marks
// (IndexedDB open, snapshot reads, topology running, first commit) split it.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { build, preview } from 'vite'
import { latencyStats } from './pageSuite.mjs'

const SUITE = 'boot'
const kilo = (n) => (n >= 1000 ? `${Math.round(n / 1000)}k` : String(n))
const ms = (n) => (n === undefined || n === null ? '-' : n.toFixed(n < 100 ? 1 : 0))
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..')

/**
 * boot.html built as an app ships it (Vite production build: the page's and the worker's modules
 * bundled and minified) and served from a static server: a page load through the dev server would
 * mostly time its module-by-module transforms (~2-3 s here), not the app.
 */
async function builtBootPage(progress) {
  const outDir = mkdtempSync(join(tmpdir(), 'duality-bench-boot-build-'))
  progress(`${SUITE}: building boot.html (vite build)`)
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    base: '/',
    build: {
      outDir,
      emptyOutDir: true,
      target: 'esnext', // the worker's top-level await
      rollupOptions: { input: join(root, 'test/bench/boot.html') },
    },
    worker: { format: 'es' },
  })
  const server = await preview({
    configFile: false,
    root,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0 },
  })
  const url = server.resolvedUrls?.local[0]
  if (!url) throw new Error('vite preview did not report a URL')
  return {
    url,
    close: async () => {
      await new Promise((done) => server.httpServer.close(done))
      rmSync(outDir, { recursive: true, force: true })
    },
  }
}

export async function runBoot({ options: o, progress, launch }) {
  const events = o.bootEvents
  const reloads = o.repeats
  const rows = []
  const built = await builtBootPage(progress)
  try {
    await runVariants()
  } finally {
    await built.close()
  }
  return { rows }

  async function runVariants() {
    const variants = [
      { keys: 10_000, snapshots: true },
      { keys: 10_000, snapshots: false },
      { keys: 100_000, snapshots: true },
      { keys: 100_000, snapshots: false },
    ]
    for (const { keys, snapshots } of variants) {
      {
        const variant = `${kilo(keys)}${snapshots ? '' : '.no-snapshot'}`
        const profile = mkdtempSync(join(tmpdir(), 'duality-bench-boot-'))
        try {
          const url = (mode) =>
            new URL(
              `test/bench/boot.html?mode=${mode}&db=bench-boot&keys=${keys}&events=${events}&snapshots=${snapshots ? 1 : 0}`,
              built.url,
            ).href
          progress(`${SUITE}: ${variant}: filling ${events} events over ${keys} keys`)
          const filled = await inBrowser(profile, launch, url('fill'), progress)
          const boots = []
          for (let r = 0; r < reloads; r++) {
            progress(`${SUITE}: ${variant}: cold load ${r + 1} of ${reloads}`)
            boots.push(await inBrowser(profile, launch, url('boot'), progress))
          }
          rows.push(...variantRows({ keys, snapshots, variant, events, filled, boots }))
        } finally {
          rmSync(profile, { recursive: true, force: true })
        }
      }
    }
  }
}

/** A new browser on `profile`: opens `url` and returns its page's `window.bootResult`. */
async function inBrowser(profile, launch, url, progress) {
  const context = await chromium.launchPersistentContext(profile, launch)
  try {
    const page = context.pages()[0] ?? (await context.newPage())
    page.on('pageerror', (error) => progress(`${SUITE}: page error: ${error.message}`))
    page.on('console', (m) =>
      m.type() !== 'debug' ? progress(`${SUITE}: console: ${m.text()}`) : undefined,
    )
    await page.goto(url)
    await page.waitForFunction(() => 'bootResult' in window, undefined, { timeout: 60_000 })
    return await page.evaluate(() => window.bootResult)
  } finally {
    await context.close()
  }
}

/** The worker's mark `name` (the `nth` of that name), in ms since navigation start. */
const markAt = (boot, name, nth = 0) => boot.marks.filter((m) => m.name === name)[nth]?.at

function variantRows({ keys, snapshots, variant, events, filled, boots }) {
  const peer =
    `duality, ${kilo(keys)} keys, ${kilo(events)} events stored, ` +
    (snapshots ? 'snapshot' : 'no snapshot (changelog rebuild)')
  const latencyRow = (id, workload, values, note) => ({
    id,
    peer,
    workload,
    events: values.length,
    ms: values.reduce((s, v) => s + v, 0),
    eventsPerSec: 0,
    latencyMs: latencyStats(values),
    note: note.filter(Boolean).join('; '),
  })
  // The split, medians over the loads, each step from the one before it.
  const steps = [
    ['page module', (b) => b.moduleAt],
    ['worker script', (b) => markAt(b, 'worker script running')],
    ['IndexedDB open', (b) => markAt(b, 'IndexedDB open')],
    // The views go first (serve() starts the topology once the page's views have their
    // snapshots), so the first read of the snapshots store is the view's.
    ...(snapshots ? [['view snapshot read', (b) => markAt(b, 'snapshot read end', 0)]] : []),
    [
      snapshots
        ? 'view message posted (decode, mirror fill, tail, pack)'
        : 'view message posted (changelog fold, sort, pack)',
      (b) => markAt(b, 'view message post start'),
    ],
    ['serialised', (b) => markAt(b, 'view message post end')],
    ['in the page (transit)', (b) => b.viewMessageAt ?? undefined],
    ['first view (deserialise, state, zustand)', (b) => b.firstViewAt],
  ]
  const split = steps.map(([name, at], i) => {
    const values = boots.map(at)
    if (values.some((v) => v === undefined)) return `${name} ?`
    const before = i === 0 ? boots.map(() => 0) : boots.map(steps[i - 1][1])
    return `${name} +${ms(median(values.map((v, j) => v - (before[j] ?? 0))))}`
  })
  const firstView = boots.map((b) => b.firstViewAt)
  const workerStart = (b) => markAt(b, 'worker created')
  const running = boots.map((b) => markAt(b, 'topology running') - workerStart(b))
  const firstCommit = boots
    .map((b) => markAt(b, 'first commit') - markAt(b, 'append'))
    .filter((v) => !Number.isNaN(v))
  const caughtUp = boots.every((b) => b.marks.some((m) => m.name === 'caught up'))
  const iso = filled.isolated ?? {}
  const isolatedNote = snapshots
    ? `warm worker, one at a time: snapshot read + decode ${ms(iso.snapshotReadDecodeMs)}, view mirror load ${ms(iso.mirrorLoadMs)}, key sort ${ms(iso.sortMs)}, first message packed + structured clone ${ms(iso.cloneMs)} ms`
    : `warm worker, one at a time: view mirror folds the changelog ${ms(iso.mirrorLoadMs)}, key sort ${ms(iso.sortMs)}, first message packed + structured clone ${ms(iso.cloneMs)} ms`
  const changelog = filled.changelog
  const rows = [
    latencyRow(
      `boot.first-view.${variant}`,
      'cold page load (navigation start) -> first zustand listener call with every key',
      firstView,
      [
        `${boots.length} cold loads (new browser on the profile)`,
        `median split, ms: ${split.join(', ')}`,
        isolatedNote,
        `changelog ${changelog.high - changelog.low} records` +
          (snapshots ? `, snapshot at offset ${filled.snapshotAt} of ${changelog.high}` : ''),
      ],
    ),
    latencyRow(
      `boot.topology.${variant}`,
      "worker start -> topology running (store restored; it starts once the page's views have their snapshots)",
      running,
      [
        caughtUp ? 'caught up at start (committed = input end)' : 'NOT caught up at start',
        firstCommit.length
          ? `then a record appended once the page has its view -> its commit: median ${ms(median(firstCommit))} ms`
          : 'no first commit seen',
      ],
    ),
    {
      id: `boot.fill.${variant}`,
      peer,
      workload: `fill (not timed in the loads): ${kilo(events)} events in sends of 1,000, in the worker`,
      events,
      repeats: 1,
      ms: filled.fillMs,
      eventsPerSec: events / (filled.fillMs / 1000),
      note: `topology caught up ${ms(filled.caughtUpMs)} ms after the fill started (${ms(filled.caughtUpMs - filled.fillMs)} after its last send)`,
    },
  ]
  if (filled.write) {
    const { ms: writeMs, syncMs, stallMs } = filled.write
    rows.push({
      id: `boot.snapshot-write.${kilo(keys)}`,
      peer,
      workload: `one snapshot write of ${kilo(keys)} keys (storeEntries, pack, one transaction)`,
      events: keys,
      repeats: 3,
      ms: writeMs,
      eventsPerSec: keys / (writeMs / 1000),
      note: `median of 3; synchronous part (entries + packing) ${ms(syncMs)} ms; longest worker event-loop stall ${ms(stallMs)} ms`,
    })
  }
  return rows
}
