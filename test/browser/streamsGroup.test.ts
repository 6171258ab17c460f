import { wrap } from 'comlink'
import { expect, test } from 'vitest'
import { until } from '../support/until.ts'
import type { StreamsWorkerApi } from './streamsWorker.ts'

const spawn = () => {
  const worker = new Worker(new URL('./streamsWorker.ts', import.meta.url), { type: 'module' })
  return { worker, api: wrap<StreamsWorkerApi>(worker) }
}
const words = ['ant', 'bee', 'cat', 'dog', 'eel', 'fox']
const lines = Array.from({ length: 200 }, (_, i) =>
  Array.from({ length: 1 + (i % 3) }, (_, j) => words[(i * 5 + j) % words.length]).join(' '),
)
const half = lines.length / 2

test('instances in two workers form one group: one processes, the other takes over when it dies', async () => {
  const run = `${Date.now()}`
  const baseline = spawn()
  await baseline.api.open(`group-baseline-${run}`)
  await baseline.api.feed(lines)
  await baseline.api.start()
  await until(() => baseline.api.caughtUp(), 20_000)
  const expected = await baseline.api.read('word-counts')
  baseline.worker.terminate()

  const name = `group-${run}`
  const a = spawn()
  const b = spawn()
  await a.api.open(name)
  await b.api.open(name)
  await a.api.start(true)
  await b.api.start(true)
  // Exactly one of them gets the work; the other stands by.
  await until(async () => [await a.api.state(), await b.api.state()].includes('RUNNING'), 5000)
  const states = [await a.api.state(), await b.api.state()].sort()
  expect(states).toEqual(['REBALANCING', 'RUNNING'])
  const [active, standby] = (await a.api.state()) === 'RUNNING' ? [a, b] : [b, a]
  await standby.api.feed(lines.slice(0, half))
  await until(() => standby.api.caughtUp(), 20_000)
  expect(await standby.api.state()).toBe('REBALANCING')

  // The active worker dies; the standby takes over and processes what comes next.
  active.worker.terminate()
  await until(async () => (await standby.api.state()) === 'RUNNING', 5000)
  await standby.api.feed(lines.slice(half), half)
  await until(() => standby.api.caughtUp(), 20_000)
  // Nothing processed twice, nothing lost: exactly the uninterrupted outputs.
  expect(await standby.api.read('word-counts')).toEqual(expected)
  standby.worker.terminate()
}, 60_000)
