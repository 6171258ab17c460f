import { rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ESLint } from 'eslint'
import { afterEach, expect, test } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const planted: string[] = []

/** Writes a file into src/ for one test and lints it with the project's config. */
async function lintPlanted(path: string, code: string): Promise<string[]> {
  const file = `${root}${path}`
  planted.push(file)
  writeFileSync(file, code)
  const [result] = await new ESLint({ cwd: root }).lintFiles([file])
  return result!.messages.filter((m) => m.ruleId === 'layers/imports').map((m) => m.message)
}

afterEach(() => {
  for (const file of planted.splice(0)) rmSync(file, { force: true })
})

test('the core imports no worker, UI, sync or server module and no platform library', async () => {
  const messages = await lintPlanted(
    'src/log/zzPlantedCore.ts',
    [
      "import { connect } from '../worker/index.ts'",
      "import { createViewStore } from '../zustand/index.ts'",
      "import { Sync } from '../sync/Sync.ts'",
      "import { createApp } from '../server/index.ts'",
      "import { openDB } from 'idb'",
      "import { readFileSync } from 'node:fs'",
      'export const all = [connect, createViewStore, Sync, createApp, openDB, readFileSync]',
    ].join('\n'),
  )
  expect(messages).toHaveLength(6)
  expect(messages[0]).toMatch(/^log \(src\/log\) may not import worker/)
  expect(messages[4]).toMatch(/may not import the package "idb"/)
  expect(messages[5]).toMatch(/may not import the package "node:fs"/)
})

test('the server imports nothing of the browser side; sync and server share only src/protocol', async () => {
  const server = await lintPlanted(
    'src/server/http/zzPlanted.ts',
    [
      "import { Sync } from '../../sync/Sync.ts'",
      "import { idbStorage } from '../../storage/idb/index.ts'",
      "import { connect } from '../../worker/index.ts'",
      "import { H } from '../../protocol/index.ts'",
      'export const all = [Sync, idbStorage, connect, H]',
    ].join('\n'),
  )
  expect(server.map((m) => m.split(':')[0])).toEqual([
    'server (src/server) may not import sync (src/sync/Sync.ts)',
    'server (src/server) may not import storage (src/storage/idb/index.ts)',
    'server (src/server) may not import worker (src/worker/index.ts)',
  ])
  const sync = await lintPlanted(
    'src/sync/zzPlanted.ts',
    "import { createApp } from '../server/index.ts'\nimport { H } from '../protocol/index.ts'\nexport const all = [createApp, H]\n",
  )
  expect(sync).toHaveLength(1)
  expect(sync[0]).toMatch(/^sync \(src\/sync\) may not import server/)
})

test("duality/server's web-standard rooms import no Node-only room or package", async () => {
  const messages = await lintPlanted(
    'src/server/http/zzPlantedNode.ts',
    [
      "import { sqliteServerStorage } from '../engines/sqlite/index.ts'",
      "import { serve } from '../node/index.ts'",
      "import Database from 'better-sqlite3'",
      "import { createHash } from 'node:crypto'",
      "import { jwtVerify } from 'jose'",
      "import { Hono } from 'hono'",
      'export const all = [sqliteServerStorage, serve, Database, createHash, jwtVerify, Hono]',
    ].join('\n'),
  )
  // hono is the one package the web-standard server may import.
  expect(messages).toHaveLength(5)
  expect(messages[0]).toMatch(/^server \(src\/server\) may not import server-sqlite/)
  expect(messages[1]).toMatch(/may not import server-node/)
})
