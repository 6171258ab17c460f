import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, vi } from 'vitest'
import { EmbeddedEngine, memoryServerStorage } from '../../src/server/index.ts'
import { sqliteServerStorage } from '../../src/server/engines/sqlite/index.ts'
import { JetStreamEngine } from '../../src/server/engines/jetstream/index.ts'
import { engineContract, type OpenedEngine } from '../contract/engineContract.ts'
import { startNatsServer, type NatsServer } from './support/natsServer.ts'

// The engine contract over every engine: memory, SQLite on a temporary file, and JetStream on
// this file's own nats-server (each test with its own metadata bucket, so none sees another's).
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 })

const dir = mkdtempSync(join(tmpdir(), 'duality-engine-'))
let nats: NatsServer | undefined
beforeAll(async () => {
  nats = await startNatsServer()
})
afterAll(async () => {
  await nats?.stop()
  rmSync(dir, { recursive: true, force: true })
})

engineContract('memory', {
  durable: false,
  open: async (now) => {
    const engine = new EmbeddedEngine({ storage: memoryServerStorage(), now })
    return { engine, close: async () => engine.close() }
  },
})

let files = 0
engineContract('sqlite', {
  durable: true,
  open: async (now) => {
    const filename = join(dir, `streams-${files++}.db`)
    const opened = (): OpenedEngine => {
      const engine = new EmbeddedEngine({ storage: sqliteServerStorage({ filename }), now })
      return {
        engine,
        close: async () => {
          engine.close()
          rmSync(filename, { force: true })
          rmSync(`${filename}-wal`, { force: true })
          rmSync(`${filename}-shm`, { force: true })
        },
        reopen: async () => {
          engine.close()
          return opened()
        },
      }
    }
    return opened()
  },
})

engineContract('jetstream', {
  durable: true,
  open: async (now) => {
    const bucket = `contract_${randomUUID().slice(0, 8)}`
    const opened = async (): Promise<OpenedEngine> => {
      const engine = await JetStreamEngine.connect({ servers: nats!.url, bucket, now })
      return {
        engine,
        close: () => engine.close(),
        reopen: async () => {
          await engine.close()
          return opened()
        },
      }
    }
    return opened()
  },
})
