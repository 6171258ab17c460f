import { runConformanceTests } from '@durable-streams/server-conformance-tests'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { serve, sqliteServerStorage, type RunningServer } from '../../src/server/index.ts'

// The Durable Streams conformance suite against the server on a temporary SQLite file.
const config = { baseUrl: '' }
let server: RunningServer
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'duality-conformance-'))
  server = await serve({
    port: 0,
    storage: sqliteServerStorage({ filename: join(dir, 'streams.db') }),
    longPollTimeoutMs: 3_000,
  })
  config.baseUrl = server.url
})

afterAll(async () => {
  await server?.close()
  rmSync(dir, { recursive: true, force: true })
})

runConformanceTests(config)
