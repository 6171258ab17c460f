// Helpers for the runners of page suites (suites/*.mjs): suites that drive the bench page and its
// tabs from Node instead of running inside one worker.

/**
 * Loads a page-side module (page.ts, pageSuites) in `page`; returns null, or why it failed to load
 * (for instance src/worker not written yet), for the suite to report as skipped.
 */
export function loadPageSuite(page, name) {
  return page.evaluate(async (name) => {
    try {
      await window.bench.pageSuites[name]()
      return null
    } catch (error) {
      return `import failed: ${error?.message ?? error}`
    }
  }, name)
}

/** Calls `fn(...args)` of the page-side module `name` in `page`. */
export function callPage(page, name, fn, ...args) {
  return page.evaluate(
    async ([name, fn, args]) => (await window.bench.pageSuites[name]())[fn](...args),
    [name, fn, args],
  )
}

const kilo = (n) => (n >= 10_000 ? `${Math.round(n / 1000)}k` : String(Math.round(n)))

/**
 * `runs` is a list of runs, each a list of rows: keeps, per row id, the run with the median
 * events/s, its note extended with the range and `repeats` set (as workload.ts's medianOf does).
 */
export function medianRows(runs) {
  if (runs.length < 2) return (runs[0] ?? []).map((r) => ({ ...r, repeats: runs.length }))
  return runs[0].map(({ id }) => {
    const all = runs.map((rows) => rows.find((r) => r.id === id))
    all.sort((a, b) => a.eventsPerSec - b.eventsPerSec)
    const median = all[Math.floor(all.length / 2)]
    const range = `median of ${runs.length}: ${kilo(all[0].eventsPerSec)}-${kilo(all.at(-1).eventsPerSec)}/s`
    return {
      ...median,
      repeats: runs.length,
      note: [median.note, range].filter(Boolean).join('; '),
    }
  })
}

/** p50 / p90 / p99 (nearest rank), max and mean of a list of ms. */
export function latencyStats(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const rank = (p) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]
  const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length
  return { p50: rank(0.5), p90: rank(0.9), p99: rank(0.99), max: sorted.at(-1), mean }
}
