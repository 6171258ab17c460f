#!/usr/bin/env node
// npm run bench [-- --json] [--quick] [--only a,b] [--events N] [--streams-events N]
//   [--boot-events N] [--in-memory]
//
// Starts a Vite dev server on the repo (no config file), opens test/bench/index.html in Debian's
// Chromium through playwright-core and runs every suite of suites.mjs; prints a table, or with
// --json one JSON object and nothing else on stdout (progress goes to stderr). Exits 0 whatever
// the figures; non-zero only when something actually broke.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { chromium } from 'playwright-core'
import { createServer } from 'vite'
import { chromiumArgs, chromiumPath } from '../support/chromiumLaunch.js'
import { evaluateChecks, formatText } from './report.mjs'
import { suites } from './suites.mjs'

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..')
const log = (message) => process.stderr.write(`[bench] ${message}\n`)

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    events: { type: 'string' },
    'streams-events': { type: 'string' },
    'boot-events': { type: 'string' },
    'scan-chunk': { type: 'string', default: '10000' },
    'in-memory': { type: 'boolean', default: false },
    timeout: { type: 'string', default: '900' },
    help: { type: 'boolean', default: false },
  },
})
if (args.help) {
  process.stdout.write(`Usage: npm run bench -- [options]
  --json          print one JSON object on stdout instead of the table
  --quick         small workloads (a smoke test; figures are noisy)
  --only a,b      run only these suites (${suites.map((s) => s.name).join(', ')})
  --events N      events of the send@100 and send@1000 workloads and scans (default 100000)
  --streams-events N  events each streams replay writes and replays (default 1000000)
  --boot-events N     events stored before the boot suite's cold loads (default 1000000)
  --scan-chunk N  records per read when scanning (default 10000)
  --in-memory     incognito context: IndexedDB in memory instead of on disk
  --timeout S     give up after S seconds (default 900)
`)
  process.exit(0)
}

/**
 * The one definition of what every peer runs: raw IndexedDB, Dexie and duality (and the
 * worker-client suite's two sides) read each workload's events and budget from `workloads` and
 * run it `repeats` times, so a check never compares figures measured on different events or a
 * median with a single run. The budgets are ceilings that a run does not normally reach: on this
 * 2-core machine under load (load average 5-8) the slowest peers took ~17 s of 40 for send@1000
 * (raw IndexedDB one row per record, Dexie) and 10 s of 30 for send@1-concurrent (Dexie). A run
 * that reaches its budget shows fewer events, and the checks comparing it report unequal samples.
 * The cost of equal samples: the one-row-per-record peers' 3 x 100,000 events at batch 1,000 are
 * most of the run time of `--only raw-idb,dexie`.
 */
const batchEvents = Number(args.events ?? (args.quick ? 10_000 : 100_000))
/** @type {import('./protocol.ts').SuiteOptions} */
const options = {
  workloads: {
    'send@1': { events: args.quick ? 200 : 1_000, budgetMs: args.quick ? 5_000 : 15_000 },
    'send@1-concurrent': {
      events: args.quick ? 1_000 : 5_000,
      budgetMs: args.quick ? 5_000 : 30_000,
    },
    'send@100': { events: batchEvents, budgetMs: args.quick ? 5_000 : 20_000 },
    'send@1000': { events: batchEvents, budgetMs: args.quick ? 10_000 : 40_000 },
  },
  repeats: args.quick ? 1 : 3,
  pairedRepeats: args.quick ? 1 : 7,
  window: 1_000,
  scanChunk: Number(args['scan-chunk']),
  streamsEvents: Number(args['streams-events'] ?? (args.quick ? 50_000 : 1_000_000)),
  bootEvents: Number(args['boot-events'] ?? (args.quick ? 100_000 : 1_000_000)),
}
const numbers = (prefix, object) =>
  Object.entries(object).flatMap(([name, value]) =>
    typeof value === 'object' ? numbers(`${prefix}${name}.`, value) : [[prefix + name, value]],
  )
for (const [name, value] of numbers('', options)) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`bad option ${name}: ${value}`)
}

async function main(cleanups) {
  const selected = args.only
    ? args.only.split(',').map((name) => {
        const suite = suites.find((s) => s.name === name)
        if (!suite) throw new Error(`unknown suite '${name}'`)
        return suite
      })
    : suites

  const server = await createServer({
    configFile: false,
    root,
    logLevel: 'warn', // Vite logs warnings to stderr; stdout stays ours
    clearScreen: false,
    // The library is edited while benchmarks run: no watcher, no HMR reloads mid-run.
    server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
    // Pre-bundle the CommonJS peer (Dexie) up front; no discovery, which would reload the page.
    optimizeDeps: { noDiscovery: true, include: ['dexie', 'idb', 'zustand/vanilla'] },
    // Our own optimizer cache: a vitest run sharing node_modules/.vite re-optimises into it with
    // another config hash, and our page then gets 504 'Outdated Optimize Dep' mid-run.
    cacheDir: 'node_modules/.vite-duality-bench',
  })
  cleanups.push(() => server.close())
  await server.listen()
  const baseUrl = server.resolvedUrls?.local[0]
  if (!baseUrl) throw new Error('Vite did not report a URL')

  const launch = {
    // Our own signal handlers close everything in order.
    handleSIGINT: false,
    handleSIGTERM: false,
    executablePath: chromiumPath,
    args: chromiumArgs,
  }
  /**
   * A fresh browser and profile for every suite: a browser that just deleted another peer's
   * databases keeps compacting its disk store in the background, which on 2 cores slowed
   * whichever suite came next (by up to a third). A persistent profile keeps IndexedDB on disk,
   * as for a user; a plain newContext() is incognito, where Chromium keeps IndexedDB in memory.
   */
  async function openPage() {
    const closers = []
    let context
    if (args['in-memory']) {
      const browser = await chromium.launch(launch)
      closers.push(() => browser.close())
      context = await browser.newContext()
    } else {
      const profile = mkdtempSync(join(tmpdir(), 'duality-bench-'))
      closers.push(() => rmSync(profile, { recursive: true, force: true }))
      context = await chromium.launchPersistentContext(profile, launch)
      closers.push(() => context.close())
    }
    const close = () => cleanUp(closers)
    cleanups.push(close)
    const page = context.pages()[0] ?? (await context.newPage())
    page.on('pageerror', (error) => log(`page error: ${error.message}`))
    page.on('console', (m) => (m.type() === 'error' ? log(`console: ${m.text()}`) : undefined))
    page.on('response', (r) =>
      r.status() >= 400 ? log(`HTTP ${r.status()} ${r.url()}`) : undefined,
    )
    await page.exposeFunction('benchProgress', (suite, message) => log(`${suite}: ${message}`))
    await page.goto(new URL('test/bench/index.html', baseUrl).href)
    await page.waitForFunction(() => 'bench' in window)
    return { page, context, close }
  }

  let browserName
  const rows = []
  const skipped = []
  for (const suite of selected) {
    const started = Date.now()
    log(`${suite.name}: start`)
    const { page, context, close } = await openPage()
    browserName ??= await page.evaluate(() => navigator.userAgent.match(/Chrome\/[\d.]+/)?.[0])
    const result = await suite.run({
      page,
      context,
      baseUrl,
      server,
      options,
      progress: log,
      launch,
    })
    await close()
    if ('skipped' in result) {
      const missing = (suite.requiresFiles ?? []).filter((f) => !existsSync(join(root, f)))
      if (missing.length === 0) throw new Error(`suite '${suite.name}' failed: ${result.skipped}`)
      skipped.push({
        suite: suite.name,
        reason: `${result.skipped} (missing: ${missing.join(', ')})`,
      })
      log(`${suite.name}: SKIPPED, ${skipped.at(-1).reason}`)
    } else {
      rows.push(...result.rows)
      log(`${suite.name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    }
  }

  const report = {
    environment: {
      browser: browserName ?? 'Chromium',
      storage: args['in-memory'] ? 'IndexedDB in memory (incognito)' : 'IndexedDB on disk',
      node: process.version,
      cpus: availableParallelism(),
      options,
    },
    rows,
    checks: evaluateChecks(selected, rows),
    skipped,
  }
  process.stdout.write(args.json ? JSON.stringify(report) + '\n' : formatText(report))
}

/** Runs the cleanups in reverse order; one failing does not stop the others. */
async function cleanUp(cleanups) {
  // splice: a signal's cleanup and main's finally may both get here; each step runs once.
  for (const cleanup of cleanups.splice(0).reverse()) {
    await Promise.resolve()
      .then(cleanup)
      .catch((error) => log(`cleanup failed: ${error.message}`))
  }
}

const cleanups = []
/** Set when we stop early (timeout, signal): main's failure that follows is no news then. */
let stopping = null

/** Stops early: closes everything, then exits with `code`. */
function stop(reason, code) {
  if (stopping) return
  stopping = reason
  log(`${reason}; closing the browser and the server`)
  cleanUp(cleanups).finally(() => process.exit(code))
}
const timeout = setTimeout(() => stop(`timed out after ${args.timeout} s`, 1), args.timeout * 1000)
process.once('SIGINT', () => stop('interrupted', 130))
process.once('SIGTERM', () => stop('terminated', 143))

let exitCode = 0
try {
  await main(cleanups)
} catch (error) {
  if (!stopping) log(`error: ${error.stack ?? error}`)
  exitCode = 1
} finally {
  clearTimeout(timeout)
  await cleanUp(cleanups)
}
if (!stopping) process.exit(exitCode)
