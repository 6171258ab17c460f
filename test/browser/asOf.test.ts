import { afterEach, expect, test } from 'vitest'
import { InvalidArgumentError } from '../../src/index.ts'
import { connect, type Client } from '../../src/worker/index.ts'
import { createViewStore, viewAsOf, type ViewStore } from '../../src/zustand/index.ts'
import { stepMessages, type SpendRecord } from '../support/spendSteps.ts'
import { until } from '../support/until.ts'
import { uniqueName } from './workerTabs.ts'

// viewAsOf in real Chromium: the page asks the worker for a view as of input offsets or a time,
// and gets what the live view showed at that point; the live view goes on untouched.
const open: { worker: Worker; client: Client; stores: { close(): void }[] }[] = []
afterEach(() => {
  for (const { worker, client, stores } of open.splice(0)) {
    for (const store of stores) store.close()
    client.close()
    worker.terminate()
  }
})

const pairs = <K, V>(store: ViewStore<K, V>) =>
  store
    .getState()
    .all()
    .map((e) => [e.key, e.value])

test('viewAsOf gives the view as the live one was after those offsets, or up to a time', async () => {
  const worker = new Worker(new URL('./asOfWorker.ts', import.meta.url), {
    type: 'module',
    name: uniqueName('asof'),
  })
  const client = connect(worker)
  const totals = createViewStore<string, number>(client, 'totals')
  const windows = createViewStore(client, 'per-window')
  open.push({ worker, client, stores: [totals, windows] })
  await Promise.all([totals.ready, windows.ready])

  // [key, value, timestamp, partition]; timestamps rise step by step.
  const steps: SpendRecord[][] = [
    [
      ['food', 10, 1, 0],
      ['rent', 500, 2, 1],
    ],
    [
      ['food', 5, 12, 1],
      ['fun', 20, 13, 0],
    ],
    [['food', 7, 31, 0]],
  ]
  const sent = [0, 0]
  const points: { offsets: number[]; totals: unknown[]; windows: unknown[]; time: number }[] = []
  let sum = 0
  for (const step of steps) {
    await client.producer().send({
      topic: 'spend',
      messages: stepMessages(step),
    })
    for (const [, value, , partition] of step) {
      sent[partition]!++
      sum += value
    }
    const want = sum
    await until(() => [...totals.getState().entries()].reduce((a, e) => a + e.value, 0) === want)
    // No record is late for its window: the windowed counts add up to the records sent.
    const records = sent[0]! + sent[1]!
    await until(
      () =>
        [...windows.getState().entries()].reduce((a, e) => a + (e.value as number), 0) === records,
    )
    points.push({
      offsets: [...sent],
      totals: pairs(totals),
      windows: pairs(windows),
      time: Math.max(...step.map((r) => r[2])),
    })
  }

  for (const point of points) {
    const at = await viewAsOf<string, number>(client, 'totals', {
      offsets: { spend: point.offsets },
    })
    expect(at.offsets).toEqual({ spend: point.offsets })
    expect(at.entries.map((e) => [e.key, e.value])).toEqual(point.totals)
    const byTime = await viewAsOf(client, 'per-window', { timestamp: point.time })
    expect(byTime.offsets).toEqual({ spend: point.offsets })
    expect(byTime.entries.map((e) => [e.key, e.value])).toEqual(point.windows)
  }
  // The live view did not move.
  expect(pairs(totals)).toEqual(points.at(-1)!.totals)

  // Bad input: typed errors across the worker boundary, with the reason.
  const unknown = viewAsOf(client, 'nope', { timestamp: 1 })
  await expect(unknown).rejects.toThrow(InvalidArgumentError)
  await expect(unknown).rejects.toThrow(/No view "nope" in this worker/)
  await expect(viewAsOf(client, 'totals', { timestamp: -5 })).rejects.toThrow(
    /timestamp must be a number >= 0/,
  )
  await expect(viewAsOf(client, 'totals', { offsets: { spend: [99, 0] } })).rejects.toThrow(
    /offset 99 of "spend" partition 0 is out of range/,
  )
})
