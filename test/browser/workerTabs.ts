import { afterEach } from 'vitest'
import { connect, type Client } from '../../src/worker/index.ts'

/**
 * Workers that run the shipped worker script, each one a tab to the others: its own log, locks
 * and channel over the shared database, as in a real app. Every worker is terminated after each
 * test of the file that calls this.
 */
export function workerTabs() {
  const workers: Worker[] = []
  afterEach(() => {
    for (const w of workers.splice(0)) w.terminate()
  })
  const spawn = (name: string): { worker: Worker; client: Client } => {
    const worker = new Worker(new URL('../../worker/duality.worker.ts', import.meta.url), {
      type: 'module',
      name,
    })
    workers.push(worker)
    return { worker, client: connect(worker) }
  }
  return { spawn, tab: (name: string): Client => spawn(name).client }
}

/** A database name no other test (or earlier run in the same profile) has used. */
export const uniqueName = (prefix: string) =>
  `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2)}`
