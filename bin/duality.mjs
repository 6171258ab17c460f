#!/usr/bin/env node
// The `duality` command. In a checkout (tsx installed as a devDependency) it runs the TypeScript
// sources, so it never runs a stale build; in an installed package it runs the built dist/cli.js,
// even when the app has tsx of its own. Node 20 cannot run .ts files by itself.
import { existsSync } from 'node:fs'

const source = new URL('../src/server/node/cli.ts', import.meta.url)
const built = new URL('../dist/cli.js', import.meta.url)

// The package does not ship tsconfig.json: its presence is what a checkout is.
const checkout = existsSync(new URL('../tsconfig.json', import.meta.url))
let register
if (checkout)
  try {
    ;({ register } = await import('tsx/esm/api'))
  } catch {
    register = undefined
  }
if (register) {
  register()
  await import(source.href)
} else {
  await import(built.href)
}
