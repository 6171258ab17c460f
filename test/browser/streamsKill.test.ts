import { wrap } from 'comlink'
import { expect, test } from 'vitest'
import { until } from '../support/until.ts'
import type { StreamsWorkerApi } from './streamsWorker.ts'

const spawn = () => {
  const worker = new Worker(new URL('./streamsWorker.ts', import.meta.url), { type: 'module' })
  return { worker, api: wrap<StreamsWorkerApi>(worker) }
}
const words = ['ant', 'bee', 'cat', 'dog', 'eel', 'fox']
const lines = Array.from({ length: 300 }, (_, i) =>
  Array.from({ length: 1 + (i % 4) }, (_, j) => words[(i * 7 + j * 3) % words.length]).join(' '),
)

test('a streams worker terminated mid-processing, again and again, ends with exactly the uninterrupted outputs', async () => {
  const run = `${Date.now()}`
  // The uninterrupted run.
  const baseline = spawn()
  await baseline.api.open(`streams-baseline-${run}`)
  await baseline.api.feed(lines)
  await baseline.api.start()
  await until(() => baseline.api.caughtUp(), 20_000)
  const expected = await baseline.api.read('word-counts')
  const expectedCounts = await baseline.api.counts()
  baseline.worker.terminate()
  expect(expected.length).toBe(lines.reduce((n, l) => n + l.split(' ').length, 0))

  // The killed run: start, let it commit some batches, terminate the worker; repeat.
  const name = `streams-killed-${run}`
  const setup = spawn()
  await setup.api.open(name)
  await setup.api.feed(lines)
  setup.worker.terminate()
  // Kill rounds: start, let it commit some batches, terminate the worker mid-processing.
  let kills = 0
  for (let round = 0; round < 12; round++) {
    const { worker, api } = spawn()
    await api.open(name)
    const done = await api.caughtUp()
    if (!done) {
      await api.start()
      await new Promise((r) => setTimeout(r, 15 + ((round * 17) % 40)))
      kills++
    }
    worker.terminate()
    if (done) break
  }
  expect(kills).toBeGreaterThan(2)
  // Then one last run to the end, and the outputs must be exactly the uninterrupted ones.
  const { worker, api } = spawn()
  await api.open(name)
  await api.start()
  await until(() => api.caughtUp(), 20_000)
  expect(await api.read('word-counts')).toEqual(expected)
  expect(await api.counts()).toEqual(expectedCounts)
  worker.terminate()
}, 60_000)
