#!/usr/bin/env node
// The `duality` command. In a checkout (tsx installed as a devDependency) it runs the TypeScript
// sources, so it never runs a stale build; in an installed package it runs the built dist/cli.js.
// Node 20 cannot run .ts files by itself.
const source = new URL('../src/server/node/cli.ts', import.meta.url)
const built = new URL('../dist/cli.js', import.meta.url)

let register
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
