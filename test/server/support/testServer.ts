import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import {
  JetStreamEngine,
  type JetStreamEngineOptions,
} from '../../../src/server/engines/jetstream/index.ts'
import { serve, type RunningServer, type ServeOptions } from '../../../src/server/node/index.ts'
import { sqliteServerStorage } from '../../../src/server/engines/sqlite/index.ts'

export interface TestServer extends RunningServer {
  /** The server's clock: tests move it instead of sleeping. */
  clock: { now: number }
  dir: string
  stop(): Promise<void>
}

/** The server on a free loopback port over a temporary SQLite file, with a settable clock. */
export async function startTestServer(options: Partial<ServeOptions> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'duality-server-'))
  const clock = { now: Date.now() }
  const server = await serve({
    port: 0,
    storage: sqliteServerStorage({ filename: join(dir, 'streams.db') }),
    now: () => clock.now,
    cleanerIntervalMs: 0,
    longPollTimeoutMs: 1_000,
    ...options,
  })
  return {
    ...server,
    clock,
    dir,
    async stop() {
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * The same over JetStream: a server with its own metadata bucket on a shared nats-server, so
 * tests on one nats-server see none of each other's streams or topics.
 */
export async function startJetStreamTestServer(
  natsUrl: string,
  options: Partial<ServeOptions> = {},
): Promise<TestServer> {
  const clock = { now: Date.now() }
  const backend = await JetStreamEngine.connect({
    servers: natsUrl,
    bucket: `test_${randomUUID().slice(0, 8)}`,
    now: () => clock.now,
  })
  const server = await serve({
    port: 0,
    engine: backend,
    cleanerIntervalMs: 0,
    longPollTimeoutMs: 1_000,
    ...options,
  })
  return { ...server, clock, dir: '', stop: () => server.close() }
}

/** `count` duality servers, each with its own NATS connection, over one JetStream. */
export function startJetStreamServers(
  natsUrl: string,
  count: number,
  engine: Partial<JetStreamEngineOptions> = {},
  options: Partial<ServeOptions> = {},
): Promise<RunningServer[]> {
  return Promise.all(
    Array.from({ length: count }, async () =>
      serve({
        port: 0,
        engine: await JetStreamEngine.connect({ ...engine, servers: natsUrl }),
        ...options,
      }),
    ),
  )
}
