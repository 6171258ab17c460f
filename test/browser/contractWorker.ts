/// <reference lib="webworker" />
import { equals, iterableEquality, subsetEquality } from '@vitest/expect'
import { expose } from 'comlink'
import { idbStorage, type IdbStorage } from '../../src/storage/idb/index.ts'
import { logContract, type Assertion, type ContractApi } from '../contract/logContract.ts'

// The storage contract, run inside a real Web Worker on IndexedDB: where duality's log lives in
// an app. vitest's runner does not exist here, so the suite registers into this small one, and the
// page's test file runs each registered test through comlink.

function fail(message: string | undefined, detail: string): never {
  throw new Error(message ? `${message}: ${detail}` : detail)
}
const show = (v: unknown) => {
  try {
    return JSON.stringify(v, (_, x: unknown) =>
      x instanceof Uint8Array ? `Uint8Array[${[...x]}]` : x,
    )
  } catch {
    return String(v)
  }
}

/** Jest's matchers the suite uses, on vitest's own equality (so the semantics are the same). */
function expect(actual: unknown, message?: string): Assertion {
  const compare = (ok: boolean, what: string, expected: unknown) => {
    if (!ok) fail(message, `expected ${show(actual)} ${what} ${show(expected)}`)
  }
  return {
    toBe: (e) => compare(Object.is(actual, e), 'to be', e),
    toEqual: (e) => compare(equals(actual, e, [iterableEquality]), 'to equal', e),
    toMatch: (e) =>
      compare(
        typeof actual === 'string' && (typeof e === 'string' ? actual.includes(e) : e.test(actual)),
        'to match',
        String(e),
      ),
    toMatchObject: (e) =>
      compare(equals(actual, e, [iterableEquality, subsetEquality]), 'to match object', e),
    toHaveLength: (e) =>
      compare((actual as { length?: number })?.length === e, 'to have length', e),
    toBeGreaterThan: (e) => compare((actual as number) > e, 'to be greater than', e),
    toBeGreaterThanOrEqual: (e) => compare((actual as number) >= e, 'to be at least', e),
    toBeLessThan: (e) => compare((actual as number) < e, 'to be less than', e),
    toBeLessThanOrEqual: (e) => compare((actual as number) <= e, 'to be at most', e),
  }
}

const tests = new Map<string, () => Promise<void>>()
const prefix: string[] = []
const api: ContractApi = {
  describe(name, body) {
    prefix.push(name)
    body()
    prefix.pop()
  },
  test(name, body) {
    tests.set([...prefix, name].join(' > '), body)
  },
  expect,
}

const run = `${Date.now()}-${Math.random().toString(36).slice(2)}`
let n = 0
logContract(
  'IndexedDB in a Web Worker',
  {
    create: () => idbStorage({ name: `worker-contract-${run}-${n++}` }),
    reopen: async (closed) => idbStorage({ name: (closed as IdbStorage).db.name }),
  },
  api,
)

expose({
  list: () => [...tests.keys()],
  /** How many of a set of false assertions this expect rejects (all of them, or it is useless). */
  falseAssertionsCaught(): number {
    const wrong: (() => void)[] = [
      () => expect(1).toBe(2),
      () => expect({ a: [1, 2] }).toEqual({ a: [1, 3] }),
      () => expect(new Uint8Array([1])).toEqual(new Uint8Array([2])),
      () => expect('abc').toMatch(/x/),
      () => expect({ a: 1, b: 2 }).toMatchObject({ a: 2 }),
      () => expect([1]).toHaveLength(2),
      () => expect(1).toBeGreaterThan(1),
      () => expect(1).toBeGreaterThanOrEqual(2),
      () => expect(1).toBeLessThan(1),
      () => expect(2).toBeLessThanOrEqual(1),
    ]
    let caught = 0
    for (const assertion of wrong) {
      try {
        assertion()
      } catch {
        caught++
      }
    }
    return caught
  },
  async run(name: string): Promise<{ ok: true } | { ok: false; error: string }> {
    try {
      await tests.get(name)!()
      return { ok: true }
    } catch (error) {
      return { ok: false, error: String((error as Error)?.stack ?? error) }
    }
  },
})
