// The one place that decides how hard the property tests push, from the environment:
//
//   DUALITY_PROPERTY_RUNS  how many cases: `10x` multiplies every test's CI count (what
//                          `npm run test:deep` does), a plain number replaces it (`5000`).
//   DUALITY_SEED           replays a failure: the seed fast-check printed.
//   DUALITY_PATH           with DUALITY_SEED, goes straight to the printed counterexample.
//
// A failure's message says how to replay it. Every run also has a time budget that ends it, as a
// failure that still prints the seed, before vitest's own timeout would cut it off without one.
import fc from 'fast-check'

const env = (name: string): string | undefined => {
  const value = process.env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

function integerEnv(name: string, text: string): number {
  const value = Number(text)
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, not "${text}"`)
  return value
}

/** The number of cases a test runs, given what it runs in CI. */
export function propertyRunCount(ciRuns: number): number {
  const setting = env('DUALITY_PROPERTY_RUNS')
  if (setting === undefined) return ciRuns
  const factor = /^(\d+)x$/i.exec(setting)
  const runs = factor ? ciRuns * Number(factor[1]) : integerEnv('DUALITY_PROPERTY_RUNS', setting)
  if (!(runs >= 1)) throw new Error(`DUALITY_PROPERTY_RUNS gives ${runs} runs; it needs at least 1`)
  return runs
}

/** Whether this run replays one counterexample (DUALITY_PATH) rather than searching. */
export const replaying = (): boolean => env('DUALITY_PATH') !== undefined

const budgetMs = (ciRuns: number, msPerRun: number) =>
  Math.max(10_000, propertyRunCount(ciRuns) * msPerRun)

/**
 * fast-check parameters for a property that runs `ciRuns` cases in CI. `msPerRun` is a generous
 * bound on one case (several times what it takes on a loaded 2-core machine): the run's budget.
 */
export function propertyRuns<Ts>(ciRuns: number, msPerRun = 10): fc.Parameters<Ts> {
  const seed = env('DUALITY_SEED')
  const path = env('DUALITY_PATH')
  if (path !== undefined && seed === undefined) throw new Error('DUALITY_PATH needs DUALITY_SEED')
  return {
    numRuns: propertyRunCount(ciRuns),
    ...(seed === undefined ? {} : { seed: integerEnv('DUALITY_SEED', seed) }),
    ...(path === undefined ? {} : { path }),
    interruptAfterTimeLimit: budgetMs(ciRuns, msPerRun),
    markInterruptAsFailure: true,
    reporter: (out) => {
      if (!out.failed) return
      const replay = [`DUALITY_SEED=${out.seed}`]
      if (out.counterexamplePath !== null) replay.push(`DUALITY_PATH=${out.counterexamplePath}`)
      const message = fc.defaultReportMessage(out) ?? 'Property failed'
      throw new Error(`${message}\n\nReplay with ${replay.join(' ')}`, { cause: out.errorInstance })
    },
  }
}

/** The vitest timeout for such a test: its budget, plus time to report after an interruption. */
export function propertyTimeout(ciRuns: number, msPerRun = 10): number {
  return budgetMs(ciRuns, msPerRun) + 30_000
}
