import { runConformanceTests } from '@durable-streams/server-conformance-tests'
import { afterAll, beforeAll, describe, vi } from 'vitest'
import { serve, type RunningServer } from '../../../src/server/node/index.ts'
import type { ServerStorage, Engine } from '../../../src/server/index.ts'

/** The backend a suite runs over: the embedded engine's storage, or another backend. */
export type OpenedBackend = ({ storage: ServerStorage } | { engine: Engine }) & {
  cleanup?: () => void | Promise<void>
}

/**
 * Runs the Durable Streams conformance suite (@durable-streams/server-conformance-tests) against
 * the server on a free loopback port over the given backend.
 */
export function runConformance(open: () => OpenedBackend | Promise<OpenedBackend>): void {
  runConformanceAt(async () => {
    const { cleanup, ...opened } = await open()
    // Long-polls answer 204 after 3 s: the suite's long-poll tests append well within that.
    const server: RunningServer = await serve({ port: 0, ...opened, longPollTimeoutMs: 3_000 })
    return {
      url: server.url,
      stop: async () => {
        await server.close()
        await cleanup?.()
      },
    }
  })
}

/** A server the suite runs against: in this process, or another one (the CLI). */
export interface ConformanceTarget {
  /** The base URL; the suite's streams are under `/v1/stream/` on it. */
  url: string
  stop(): Promise<void>
}

/** Runs the conformance suite against the server `start` starts (once, for the whole suite). */
export function runConformanceAt(start: () => Promise<ConformanceTarget>): void {
  // Several suite tests sleep ~4 s by design (TTL, expiry) under vitest's 5 s default timeout:
  // give them room on a loaded machine rather than fail on scheduling.
  vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 })
  const config = { baseUrl: '' }
  let target: ConformanceTarget | undefined

  beforeAll(async () => {
    target = await start()
    config.baseUrl = target.url
  })

  afterAll(async () => {
    await target?.stop()
  })

  // The suite registers its optional subscription/webhook tests with describe.runIf(false) when a
  // server does not opt in, which shows them as skipped. duality has no such API: register them
  // not at all, so a skipped test on main always means something.
  const runIf = describe.runIf
  describe.runIf = ((condition: unknown) =>
    condition ? describe : () => undefined) as unknown as typeof describe.runIf
  try {
    runConformanceTests(config)
  } finally {
    describe.runIf = runIf
  }
}
