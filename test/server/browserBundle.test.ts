import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type Plugin } from 'vite'
import { expect, test } from 'vitest'
import pkg from '../../package.json' with { type: 'json' }

const root = fileURLToPath(new URL('../..', import.meta.url))

// What must never reach a browser or edge bundle: Node's modules and the Node-only drivers.
const nodeOnly = (id: string): boolean =>
  id.startsWith('node:') ||
  builtinModules.includes(id) ||
  ['better-sqlite3', '@hono/node-server'].includes(id) ||
  id.startsWith('@nats-io/')

/** Fails the build on the first Node or native import, naming who imports it. */
const refuseNode = (): Plugin => ({
  name: 'refuse-node',
  enforce: 'pre',
  resolveId(id, importer) {
    if (nodeOnly(id)) this.error(`${importer ?? '(entry)'} imports ${id}`)
    return null
  },
})

const bundle = (entry: string) =>
  build({
    root,
    configFile: false,
    logLevel: 'silent',
    plugins: [refuseNode()],
    build: {
      write: false,
      lib: { entry, formats: ['es'], fileName: 'bundle' },
      // Everything bundled (hono included), as an app's browser build would.
      rolldownOptions: { external: [] },
    },
  })

test('duality/server bundles for a browser target with no Node or native import', async () => {
  await expect(bundle('src/server/index.ts')).resolves.toBeDefined()
}, 60_000)

test('the check catches one: duality/server/node does import Node', async () => {
  await expect(bundle('src/server/node/index.ts')).rejects.toThrow(
    /imports node:|imports @hono\/node-server/,
  )
}, 60_000)

test('in a browser or worker bundle, the Node-only entries resolve to a module that says why', async () => {
  const exports = pkg.exports as unknown as Record<string, Record<string, string>>
  for (const entry of ['./server/node', './server/sqlite', './server/jetstream']) {
    expect(exports[entry]!.browser, entry).toBe('./dist/server-browser.js')
    expect(exports[entry]!.worker, entry).toBe('./dist/server-browser.js')
    // Conditions are tried in order: browser and worker before the Node build.
    expect(Object.keys(exports[entry]!)).toEqual(['types', 'browser', 'worker', 'import'])
  }
  await expect(import('../../src/server/browserStub.ts')).rejects.toThrow(
    /runs on Node, not in a browser bundle: import duality\/server/,
  )
})

test("a browser bundle that imports a Node-only entry's names builds, and fails at load saying why", async () => {
  // As an app's bundler sees `import { serve } from 'duality/server/node'` under the browser
  // condition: the stub must provide the names (or the build fails on a missing export that says
  // nothing) and must not be shaken out (package.json lists it in sideEffects).
  const dir = mkdtempSync(join(tmpdir(), 'duality-stub-'))
  try {
    const entry = join(dir, 'app.ts')
    writeFileSync(
      entry,
      `import { serve, sqliteServerStorage, JetStreamEngine } from ${JSON.stringify(join(root, 'src/server/browserStub.ts'))}\nconsole.log(serve, sqliteServerStorage, JetStreamEngine)\n`,
    )
    const result = await build({
      root,
      configFile: false,
      logLevel: 'silent',
      build: { write: false, lib: { entry, formats: ['es'], fileName: 'app' } },
    })
    const output = (Array.isArray(result) ? result[0]! : result) as { output: { code?: string }[] }
    expect(output.output[0]!.code).toContain('runs on Node, not in a browser bundle')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}, 60_000)
