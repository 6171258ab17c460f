import { expect, test } from 'vitest'
import { connect } from '../../src/worker/index.ts'

const spawn = (name: string) => {
  const worker = new Worker(new URL('../../worker/duality.worker.ts', import.meta.url), {
    type: 'module',
    name,
  })
  return { worker, client: connect(worker) }
}

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
    let acks = 0
    // Sends keep flowing, several in flight at any time, until the worker is killed.
    for (let i = 0; acks < 10 + round * 3 && i < 5000; i++) {
      const messages = Array.from({ length: 5 }, (_, j) => ({
        partition: i % 2,
        value: { round, i, j },
      }))
      sent++
      void producer.send({ topic: 'stream', messages }).then(
        ([meta]) => {
          acked.set(`${round}/${i}`, meta!.baseOffset)
          acks++
        },
        () => undefined,
      )
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 1))
    }
    worker.terminate()
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
