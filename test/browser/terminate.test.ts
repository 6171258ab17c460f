import { expect, test } from 'vitest'
import { connect } from '../../src/worker/index.ts'

const spawn = (name: string) => {
  const worker = new Worker(new URL('../../worker/duality.worker.ts', import.meta.url), {
    type: 'module',
    name,
  })
  return { worker, client: connect(worker) }
}

// Each round kills its worker only once the round's target of acknowledgements has arrived, with
// more sends still in flight: a fixed number of iterations would kill a worker that had not started
// yet. A fresh worker takes ~30-250 ms to take its first send when bundled (measured 2026-12-07: the
// script's fetch and compile; IndexedDB opens in 3-10 ms right after a terminate, nothing waits for
// a lock) and ~0.25-1 s under this dev server, which loads its ~50 modules one by one.
const ROUND_DEADLINE_MS = 20_000
const MAX_IN_FLIGHT = 200

test('worker.terminate() in the middle of a stream of sends, 20 times: acknowledged sends stay, the rest are whole or absent', async () => {
  const name = `terminate-${Date.now()}`
  const acked = new Map<string, number>()
  let sent = 0
  for (let round = 0; round < 20; round++) {
    const { worker, client } = spawn(name)
    if (round === 0) {
      await client.admin().createTopics({ topics: [{ topic: 'stream', numPartitions: 2 }] })
    }
    const producer = client.producer()
    const target = 10 + round * 3
    let acks = 0
    let settled = 0
    let i = 0
    const send = () => {
      const id = i++
      const messages = Array.from({ length: 5 }, (_, j) => ({
        partition: id % 2,
        value: { round, i: id, j },
      }))
      sent++
      void producer.send({ topic: 'stream', messages }).then(
        ([meta]) => {
          acked.set(`${round}/${id}`, meta!.baseOffset)
          acks++
          settled++
        },
        () => settled++,
      )
    }
    // Sends keep flowing, several in flight at any time, until the round's acks are in.
    const start = performance.now()
    while (acks < target) {
      if (performance.now() - start > ROUND_DEADLINE_MS) {
        throw new Error(
          `round ${round}: ${acks} of ${target} sends acknowledged in ${ROUND_DEADLINE_MS} ms`,
        )
      }
      if (i - settled < MAX_IN_FLIGHT) for (let k = 0; k < 20; k++) send()
      await new Promise((r) => setTimeout(r, 1))
    }
    // And some that are surely in flight when the worker dies.
    for (let k = 0; k < 20; k++) send()
    const inFlight = i - settled
    worker.terminate()
    expect(inFlight, `round ${round}: sends in flight at the kill`).toBeGreaterThan(0)
  }
  const { worker, client } = spawn(name)
  const records: {
    partition: number
    offset: number
    value: { round: number; i: number; j: number }
  }[] = []
  for (const partition of [0, 1]) {
    for (let offset = 0; ;) {
      const chunk = await client.fetch({ topic: 'stream', partition, offset })
      for (const r of chunk.records) {
        records.push({
          partition,
          offset: r.offset,
          value: r.value as { round: number; i: number; j: number },
        })
      }
      if (chunk.nextOffset === chunk.highWatermark) break
      offset = chunk.nextOffset
    }
  }
  worker.terminate()
  for (const partition of [0, 1]) {
    const offsets = records.filter((r) => r.partition === partition).map((r) => r.offset)
    expect(offsets).toEqual(offsets.map((_, i) => i))
  }
  const perSend = new Map<string, number>()
  for (const r of records) {
    const key = `${r.value.round}/${r.value.i}`
    perSend.set(key, (perSend.get(key) ?? 0) + 1)
  }
  for (const count of perSend.values()) expect(count).toBe(5)
  for (const [key, baseOffset] of acked) {
    expect(perSend.get(key)).toBe(5)
    const [round, i] = key.split('/').map(Number)
    const first = records.find(
      (r) => r.value.round === round && r.value.i === i && r.value.j === 0,
    )!
    expect(first.offset).toBe(baseOffset)
  }
  // Every round was killed with sends acknowledged and others still in flight.
  expect(acked.size).toBeGreaterThanOrEqual(770)
  expect(sent).toBeGreaterThan(acked.size)
}, 60_000)
