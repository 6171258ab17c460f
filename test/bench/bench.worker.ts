/**
 * Runs one benchmark suite per worker: the page starts a fresh worker for each suite, so suites
 * never share a heap or a warmed-up JIT. Suites load lazily: one that fails to import (duality's
 * src/ not written yet) is reported as skipped instead of breaking the others.
 */
import type { PageRequest, Row, SuiteOptions, WorkerReply } from './protocol.ts'

type SuiteRun = (options: SuiteOptions, progress: (message: string) => void) => Promise<Row[]>

/** Worker-side suites. Add a suite here and a matching entry in suites.mjs. */
const workerSuites: Record<string, () => Promise<{ run: SuiteRun }>> = {
  'raw-idb': () => import('./suites/rawIdb.ts'),
  dexie: () => import('./suites/dexie.ts'),
  duality: () => import('./suites/duality.ts'),
  streams: () => import('./suites/streams.ts'),
  // Not a suite of its own: the worker-client suite's in-worker baseline (suites/workerClient.mjs).
  'worker-client-baseline': () => import('./suites/workerClientBaseline.ts'),
}

const scope = globalThis as unknown as {
  postMessage(message: WorkerReply): void
  onmessage: ((event: MessageEvent<PageRequest>) => void) | null
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error))

scope.onmessage = async ({ data }) => {
  const load = workerSuites[data.suite]
  if (!load) return scope.postMessage({ type: 'error', message: `no worker suite '${data.suite}'` })
  let suite: { run: SuiteRun }
  try {
    suite = await load()
  } catch (error) {
    return scope.postMessage({
      type: 'done',
      result: { skipped: `import failed: ${errorText(error)}` },
    })
  }
  try {
    const progress = (message: string) => scope.postMessage({ type: 'progress', message })
    const rows = await suite.run(data.options, progress)
    scope.postMessage({ type: 'done', result: { rows } })
  } catch (error) {
    const stack = error instanceof Error ? error.stack : undefined
    scope.postMessage({ type: 'error', message: errorText(error), ...(stack ? { stack } : {}) })
  }
}
