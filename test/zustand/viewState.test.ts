import fc from 'fast-check'
import { expect, test } from 'vitest'
import type { Client, DiffMessage, ViewMessage, WireEntry } from '../../src/worker/index.ts'
import { packSnapshot, snapshotEntries } from '../../src/worker/index.ts'
import { createViewStore, ViewState } from '../../src/zustand/index.ts'
import { propertyRuns, propertyTimeout } from '../support/propertyRuns.ts'

// The page side of views without a worker: ViewState against a reference model, and a store's
// subscription facing diffs that do not line up.

const text = (key: unknown) => JSON.stringify(key)
/** The stores' key order: strings first, by themselves; other keys by their JSON text. */
const order = (key: unknown) => (typeof key === 'string' ? `s${key}` : `j${JSON.stringify(key)}`)

test(
  'ViewState applies puts and deletes as a map would, in the stores key order, sharing unchanged entries',
  () => {
    const key = fc.oneof(
      fc.string({ maxLength: 3 }),
      fc.integer({ min: -5, max: 300 }),
      fc.record({ id: fc.nat(3) }),
    )
    const diff = fc.record({
      puts: fc.array(fc.tuple(key, fc.integer()), { maxLength: 80 }),
      deletes: fc.array(key, { maxLength: 10 }),
    })
    fc.assert(
      fc.property(
        fc.array(fc.tuple(key, fc.integer())),
        fc.array(diff, { maxLength: 6 }),
        fc.boolean(),
        (initial, diffs, sorted) => {
          const model = new Map<string, { key: unknown; value: number }>()
          for (const [k, v] of initial) model.set(order(k), { key: k, value: v })
          let state = ViewState.fromSnapshot<unknown, number>(
            packSnapshot(
              // Sorted as the worker sends it; the state must also cope with any order.
              [...model.entries()]
                .sort(([a], [b]) => (sorted ? (a < b ? -1 : a > b ? 1 : 0) : 0))
                .map(([, { key, value }]): WireEntry => [text(key), value, 0]),
              [0],
            ),
          )
          if (!sorted) state.all() // the key order is then kept incrementally, diff by diff
          diffs.forEach((d, i) => {
            // One diff has each key once, in puts or in deletes (the worker merges by key).
            const puts = new Map(d.puts.map(([k, v]) => [order(k), [k, v] as const]))
            const deletes = new Map(
              d.deletes.filter((k) => !puts.has(order(k))).map((k) => [order(k), k]),
            )
            const message: DiffMessage = {
              type: 'diff',
              from: [i],
              to: [i + 1],
              puts: [...puts.values()].map(([k, v]): WireEntry => [text(k), v, i]),
              deletes: [...deletes.values()].map(text),
            }
            const before = state
            state = state.apply(message)
            for (const [id, [k, v]] of puts) model.set(id, { key: k, value: v })
            for (const id of deletes.keys()) model.delete(id)
            // Entries the diff did not touch are the very same objects.
            for (const e of before.all()) {
              const id = order(e.key)
              if (!puts.has(id) && !deletes.has(id)) expect(state.getEntry(e.key)).toBe(e)
            }
          })
          const ids = [...model.keys()].sort()
          expect(state.size).toBe(model.size)
          expect(state.all().map((e) => [e.key, e.value])).toEqual(
            ids.map((id) => [model.get(id)!.key, model.get(id)!.value]),
          )
          for (const { key, value } of model.values()) expect(state.get(key)).toBe(value)
          const lo = ids[Math.floor(ids.length / 3)]
          const hi = ids[Math.floor((2 * ids.length) / 3)]
          if (lo !== undefined && hi !== undefined) {
            const from = model.get(lo)!.key
            const to = model.get(hi)!.key
            expect(state.range({ from, to }).map((e) => e.key)).toEqual(
              ids.filter((id) => id >= lo && id <= hi).map((id) => model.get(id)!.key),
            )
          }
        },
      ),
      propertyRuns(1000),
    )
  },
  propertyTimeout(1000),
)

test('windows of a key come back by start, other keys left out', () => {
  const w = (key: string, start: number, value: number): WireEntry => [
    text({ key, window: { start, end: start + 60_000 } }),
    value,
    start,
  ]
  const state = ViewState.fromSnapshot<
    { key: string; window: { start: number; end: number } },
    number
  >(
    packSnapshot(
      // 120000 sorts before 60000 as text: the order must come from the numbers.
      [w('ada', 120_000, 3), w('ada', 60_000, 2), w('ad', 0, 9), w('ada', 0, 1), w('bob', 0, 5)],
      [5],
    ),
  )
  expect(state.windows('ada').map((x) => [x.window.start, x.value])).toEqual([
    [0, 1],
    [60_000, 2],
    [120_000, 3],
  ])
  expect(state.windows('nobody')).toEqual([])
})

/** A client whose worker is a script: it records the subscriptions and lets the test speak for it. */
function scriptedClient() {
  const subscriptions: { name: string; send: (m: ViewMessage) => void; closed: boolean }[] = []
  const views = {
    subscribe: async (name: string, send: (m: ViewMessage) => void) => {
      subscriptions.push({ name, send, closed: false })
      return String(subscriptions.length - 1)
    },
    unsubscribe: async (id: string) => {
      subscriptions[Number(id)]!.closed = true
    },
  }
  const client = { remote: { views } } as unknown as Client
  return { client, subscriptions }
}

const snapshot = (offsets: number[], entries: [string, number][]): ViewMessage =>
  packSnapshot(
    entries.map(([k, v]): WireEntry => [text(k), v, 0]),
    offsets,
  )
const diff = (from: number[], to: number[], puts: [string, number][]): ViewMessage => ({
  type: 'diff',
  from,
  to,
  puts: puts.map(([k, v]): WireEntry => [text(k), v, 0]),
  deletes: [],
})

test('a store drops a diff it already has, and takes a new snapshot after a gap instead of skipping it', async () => {
  const { client, subscriptions } = scriptedClient()
  const store = createViewStore<string, number>(client, 'totals')
  await Promise.resolve()
  const first = subscriptions[0]!
  first.send(snapshot([4, 2], [['ada', 1]]))
  await store.ready
  first.send(diff([4, 2], [5, 2], [['ada', 2]]))
  expect(store.getState().get('ada')).toBe(2)
  // Already covered by the state: a duplicate, not applied again.
  first.send(diff([4, 2], [5, 2], [['ada', 99]]))
  expect(store.getState().get('ada')).toBe(2)
  expect(store.getState().offsets).toEqual([5, 2])
  // Starts past where the state is (offset 5 of partition 0 was never seen): no partial state.
  first.send(diff([6, 2], [7, 2], [['bob', 1]]))
  expect(store.getState().has('bob')).toBe(false)
  await Promise.resolve()
  expect(subscriptions).toHaveLength(2)
  await new Promise((resolve) => setTimeout(resolve, 0))
  expect(first.closed).toBe(true)
  // The old subscription is ignored from now on; the new one starts from its own snapshot.
  first.send(diff([5, 2], [6, 2], [['cy', 1]]))
  expect(store.getState().has('cy')).toBe(false)
  subscriptions[1]!.send(
    snapshot(
      [7, 2],
      [
        ['ada', 2],
        ['bob', 1],
        ['cy', 1],
      ],
    ),
  )
  expect(
    store
      .getState()
      .all()
      .map((e) => [e.key, e.value]),
  ).toEqual([
    ['ada', 2],
    ['bob', 1],
    ['cy', 1],
  ])
  store.close()
})

test('a snapshot state answers from its sorted entries until it needs its map, and the same after', () => {
  // In key order, as the worker sends them (other keys' ids sort before strings').
  const entries: WireEntry[] = [[text({ id: 2 }), 7, 1] as WireEntry].concat(
    ['ada', 'bob', 'cy'].map((k, i): WireEntry => [text(k), i + 1, 10 + i]),
  )
  const state = ViewState.fromSnapshot<unknown, number>(packSnapshot(entries, [4]))
  const answers = () => ({
    size: state.size,
    get: ['ada', 'bob', 'cy', 'dan', { id: 2 }, { id: 3 }].map((k) => [
      state.get(k),
      state.has(k),
      state.getEntry(k)?.timestamp,
    ]),
    all: state.all().map((e) => e.key),
    range: state.range({ from: 'b', to: 'cz' }).map((e) => e.value),
    entries: [...state.entries()].map((e) => e.value).sort(),
  })
  const before = answers()
  expect(before).toEqual({
    size: 4,
    get: [
      [1, true, 10],
      [2, true, 11],
      [3, true, 12],
      [undefined, false, undefined],
      [7, true, 1],
      [undefined, false, undefined],
    ],
    all: [{ id: 2 }, 'ada', 'bob', 'cy'],
    range: [2, 3],
    entries: [1, 2, 3, 7],
  })
  const ada = state.getEntry('ada')
  state.prepare()
  expect(answers()).toEqual(before)
  expect(state.getEntry('ada')).toBe(ada)
  // all() hands out a copy: a caller sorting it does not reorder the state.
  state.all().reverse()
  expect(state.all().map((e) => e.key)).toEqual(before.all)
})

test('a snapshot message carries its entries packed and gives them back', () => {
  const entries: WireEntry[] = [
    [text('a'), { n: 1, s: 'x\ny' }, 5],
    [text('b "q"'), [1, 2], 6],
    [text({ k: 1 }), 'v', 7],
  ]
  const message = packSnapshot(entries, [3, 0])
  expect(snapshotEntries(structuredClone(message))).toEqual(entries)
  expect(snapshotEntries(packSnapshot([], []))).toEqual([])
})
