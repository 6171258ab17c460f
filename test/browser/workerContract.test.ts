import { wrap } from 'comlink'
import { afterAll, expect, test } from 'vitest'

// Every test of the storage contract, each run inside one real Web Worker (see contractWorker.ts).
const worker = new Worker(new URL('./contractWorker.ts', import.meta.url), { type: 'module' })
const contract = wrap<{
  list(): string[]
  falseAssertionsCaught(): number
  run(name: string): Promise<{ ok: true } | { ok: false; error: string }>
}>(worker)
afterAll(() => worker.terminate())

for (const name of await contract.list()) {
  test(name, async () => {
    const result = await contract.run(name)
    if (!result.ok) throw new Error(result.error)
  })
}

test("the worker's matchers reject false assertions", async () => {
  expect(await contract.falseAssertionsCaught()).toBe(10)
})
