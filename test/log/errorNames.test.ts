import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'vite'
import { afterAll, expect, test } from 'vitest'
import * as source from '../../src/log/errors.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const outDir = mkdtempSync(join(tmpdir(), 'duality-errors-'))
afterAll(() => rmSync(outDir, { recursive: true, force: true }))

// Every error class the package exports, by its source name.
const classes = Object.entries(source as Record<string, unknown>).filter(
  ([, value]) =>
    typeof value === 'function' &&
    (value === source.DualityError || value.prototype instanceof source.DualityError),
)

test('every error keeps its class name in a minified build, as logs and catch blocks read it', async () => {
  // The package's own build minifies as an app's bundler would; a name taken from the class
  // (`new.target.name`) comes out as one letter there.
  await build({
    root,
    configFile: false,
    logLevel: 'silent',
    build: {
      outDir,
      minify: true,
      lib: { entry: 'src/log/errors.ts', formats: ['es'], fileName: 'errors' },
    },
  })
  const built = (await import(pathToFileURL(join(outDir, 'errors.js')).href)) as Record<
    string,
    new (message: string) => source.DualityError
  >
  expect(classes.length).toBeGreaterThan(20)
  for (const [name] of classes) {
    const Class = built[name]!
    const error =
      name === 'DualityError'
        ? new (Class as unknown as new (code: string, message: string) => source.DualityError)(
            'INVALID_ARGUMENT',
            'm',
          )
        : new Class('m')
    expect(error.name, name).toBe(name)
    expect(error).toBeInstanceOf(built.DualityError!)
    expect(String(error)).toBe(`${name}: m`)
  }
}, 60_000)
