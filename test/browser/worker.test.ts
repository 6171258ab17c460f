import { wrap, type Remote } from 'comlink'
import { afterEach, expect, test } from 'vitest'
import type { LogWorkerApi } from './logWorker.ts'

const workers: Worker[] = []
const spawn = (): { worker: Worker; api: Remote<LogWorkerApi> } => {
  const worker = new Worker(new URL('./logWorker.ts', import.meta.url), { type: 'module' })
  workers.push(worker)
  return { worker, api: wrap<LogWorkerApi>(worker) }
}
afterEach(() => {
  for (const w of workers.splice(0)) w.terminate()
})
const dbName = () => `worker-${Date.now()}-${Math.random().toString(36).slice(2)}`

test('the log runs inside a Web Worker on IndexedDB and survives a restart of the worker', async () => {
  const name = dbName()
  const first = spawn()
  await first.api.open(name)
  await first.api.createTopic('events', 3)
  const sent = await first.api.send(
    'events',
    Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 17}`, value: i })),
  )
  expect(sent.map((s) => s.partition).sort()).toEqual([0, 1, 2])
  expect(await first.api.sendBad('events')).toEqual({
    code: 'INVALID_PARTITIONS',
    name: 'InvalidPartitionsError',
  })
  await first.api.close()
  first.worker.terminate()

  const second = spawn()
  await second.api.open(name)
  const all = [
    ...(await second.api.readAll('events', 0)),
    ...(await second.api.readAll('events', 1)),
    ...(await second.api.readAll('events', 2)),
  ]
  expect(all.map((r) => r.value as number).sort((a, b) => a - b)).toEqual(
    Array.from({ length: 300 }, (_, i) => i),
  )
  await second.api.close()
})

test('a worker terminated mid-stream leaves every acknowledged send, and whole sends only', async () => {
  const name = dbName()
  for (let round = 0; round < 5; round++) {
    const { worker, api } = spawn()
    await api.open(name)
    await api.createTopic('stream', 1)
    const acked = new Set<number>()
    worker.addEventListener('message', (e: MessageEvent) => {
      if (e.data?.tag === `r${round}`) acked.add(e.data.acked as number)
    })
    api.sendStream('stream', 200, 10, `r${round}`)
    // Wait until some sends were acknowledged, then kill the worker with others in flight.
    while (acked.size < 5) await new Promise((r) => setTimeout(r, 2))
    worker.terminate()
    const check = spawn()
    await check.api.open(name)
    const records = await check.api.readAll('stream', 0)
    await check.api.close()
    expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i))
    const mine = records
      .map((r) => r.value as { tag: string; send: number; j: number })
      .filter((v) => v.tag === `r${round}`)
    const perSend = new Map<number, number>()
    for (const v of mine) perSend.set(v.send, (perSend.get(v.send) ?? 0) + 1)
    for (const count of perSend.values()) expect(count).toBe(10)
    for (const i of acked) expect(perSend.get(i)).toBe(10)
  }
})
