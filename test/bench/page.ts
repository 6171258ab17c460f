/**
 * The bench page: a bridge between the Node runner (which calls `window.bench` through
 * page.evaluate) and the workers where the benchmarks run.
 */
import type { PageRequest, SuiteOptions, SuiteResult, WorkerReply } from './protocol.ts'

/**
 * Page-side modules of the suites that run in the page itself (suites/*.page.ts), loaded on demand:
 * their runners (suites/*.mjs) call them through page.evaluate.
 */
const pageSuites = {
  'worker-client': () => import('./suites/workerClient.page.ts'),
  'cross-tab': () => import('./suites/crossTab.page.ts'),
  views: () => import('./suites/views.page.ts'),
}

declare global {
  interface Window {
    bench: { runWorkerSuite: typeof runWorkerSuite; pageSuites: typeof pageSuites }
    /** Exposed by the runner (page.exposeFunction): progress lines go to its stderr. */
    benchProgress?: (suite: string, message: string) => void
  }
}

/** Runs one suite in a fresh module worker and terminates the worker afterwards. */
function runWorkerSuite(suite: string, options: SuiteOptions): Promise<SuiteResult> {
  const worker = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module' })
  return new Promise<SuiteResult>((resolve, reject) => {
    worker.onmessage = ({ data }: MessageEvent<WorkerReply>) => {
      if (data.type === 'progress') window.benchProgress?.(suite, data.message)
      else if (data.type === 'done') resolve(data.result)
      else reject(new Error(`${suite}: ${data.message}${data.stack ? `\n${data.stack}` : ''}`))
    }
    // A module that fails to load or an uncaught error: the event carries little detail.
    worker.onerror = (event) =>
      reject(new Error(`${suite}: worker error: ${event.message || 'failed to load'}`))
    worker.onmessageerror = () => reject(new Error(`${suite}: a message could not be deserialised`))
    worker.postMessage({ type: 'run', suite, options } satisfies PageRequest)
  }).finally(() => worker.terminate())
}

window.bench = { runWorkerSuite, pageSuites }
