import { expect, test } from 'vitest'
import { type Client, type ClientConsumer } from '../../src/worker/index.ts'
import { workerTabs } from './workerTabs.ts'
import { until } from '../support/until.ts'

// Three workers in one page are three tabs to each other: own log, own locks, own channel.
const { spawn } = workerTabs()

type Seen = { tab: number; partition: number; offset: number }

async function member(client: Client, tab: number, seen: Seen[]): Promise<ClientConsumer> {
  const consumer = client.consumer({ groupId: 'g', maxWaitTimeInMs: 200 })
  await consumer.subscribe({ topics: ['jobs'], fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      seen.push({ tab, partition, offset: message.offset })
    },
  })
  return consumer
}

const owners = async (consumers: (ClientConsumer | null)[]) =>
  Promise.all(consumers.map(async (c) => (c ? (await c.assignment()).map((a) => a.partition) : [])))

const exclusiveAndComplete = (assignments: number[][], partitions: number) => {
  const all = assignments.flat().sort((a, b) => a - b)
  return all.length === partitions && all.every((p, i) => p === i)
}

test('three tabs split six partitions; when one dies its partitions move and nothing committed is redone', async () => {
  const name = `groups-${Date.now()}`
  const tabs = [spawn(name), spawn(name), spawn(name)]
  await tabs[0]!.client.admin().createTopics({ topics: [{ topic: 'jobs', numPartitions: 6 }] })
  const seen: Seen[] = []
  const consumers: (ClientConsumer | null)[] = []
  for (let t = 0; t < 3; t++) consumers.push(await member(tabs[t]!.client, t, seen))
  await until(async () => {
    const a = await owners(consumers)
    return exclusiveAndComplete(a, 6) && a.every((p) => p.length === 2)
  })

  const send = (from: number, count: number) =>
    tabs[0]!.client.producer().send({
      topic: 'jobs',
      messages: Array.from({ length: count }, (_, i) => ({
        partition: (from + i) % 6,
        value: from + i,
      })),
    })
  await send(0, 60)
  await until(() => seen.length >= 60)
  // Each record went to exactly one tab, the one owning its partition.
  const byPartition = new Map<number, Set<number>>()
  for (const s of seen)
    (byPartition.get(s.partition) ?? byPartition.set(s.partition, new Set()).get(s.partition)!).add(
      s.tab,
    )
  for (const tabsOf of byPartition.values()) expect(tabsOf.size).toBe(1)
  expect(seen).toHaveLength(60)

  // Tab 1 crashes: its worker is gone without a goodbye.
  const lost = (await owners(consumers))[1]!
  tabs[1]!.worker.terminate()
  consumers[1] = null
  const committedAtCrash = await tabs[0]!.client
    .admin()
    .fetchOffsets({ groupId: 'g', topics: ['jobs'] })
  const takeover = await until(async () => exclusiveAndComplete(await owners(consumers), 6), 4000)
  expect(takeover).toBeLessThan(2000)
  const survivors = (await owners(consumers)).flat()
  for (const p of lost) expect(survivors).toContain(p)

  await send(60, 60)
  await until(() => new Set(seen.map((s) => `${s.partition}/${s.offset}`)).size >= 120)
  // Per partition: offsets in order per tab, nothing missing, and anything seen twice was not
  // yet committed when its tab died.
  for (let p = 0; p < 6; p++) {
    const offsets = seen.filter((s) => s.partition === p).map((s) => s.offset)
    expect(new Set(offsets).size).toBe(20)
    const committed = committedAtCrash[0]!.partitions[p]!.offset
    const twice = offsets.filter((o, i) => offsets.indexOf(o) !== i)
    for (const o of twice) expect(o).toBeGreaterThanOrEqual(committed)
    for (const t of [0, 1, 2]) {
      const mine = seen.filter((s) => s.partition === p && s.tab === t).map((s) => s.offset)
      expect(mine).toEqual([...mine].sort((a, b) => a - b))
    }
  }
  for (const c of consumers) await c?.stop()
})

test('a member that stops hands its partitions over after committing', async () => {
  const name = `handover-${Date.now()}`
  const a = spawn(name)
  const b = spawn(name)
  await a.client.admin().createTopics({ topics: [{ topic: 'jobs', numPartitions: 4 }] })
  const seen: Seen[] = []
  const first = await member(a.client, 0, seen)
  const second = await member(b.client, 1, seen)
  await until(async () => exclusiveAndComplete(await owners([first, second]), 4))
  await a.client.producer().send({
    topic: 'jobs',
    messages: Array.from({ length: 40 }, (_, i) => ({ partition: i % 4, value: i })),
  })
  await until(() => seen.length >= 40)
  await first.stop()
  await until(async () => (await second.assignment()).length === 4)
  await a.client.producer().send({
    topic: 'jobs',
    messages: Array.from({ length: 8 }, (_, i) => ({ partition: i % 4, value: 40 + i })),
  })
  await until(() => seen.length >= 48)
  await new Promise((r) => setTimeout(r, 300))
  // A clean hand-over commits first: not one record is delivered twice.
  expect(seen).toHaveLength(48)
  expect(seen.slice(40).every((s) => s.tab === 1)).toBe(true)
  await second.stop()
})
