import type { Page } from 'playwright-core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { startChromium, type ChromiumHarness } from '../support/chromium.ts'
import { expectWithinDeadline, hardBound, type Deadline } from '../support/deadline.ts'
import { until } from '../support/until.ts'

// Real tabs: pages of one origin, each with its own worker from worker/duality.worker.ts.
let chromium: ChromiumHarness
beforeAll(async () => {
  chromium = await startChromium()
})
afterAll(() => chromium?.close())

const tabs = (db: string, n: number) =>
  Promise.all(Array.from({ length: n }, () => chromium.open(`client.html?db=${db}`)))

test('four tabs sending at once through their workers: dense offsets, every acknowledged record once', async () => {
  const db = `send-${Date.now()}`
  const pages = await tabs(db, 4)
  await pages[0]!.evaluate(() =>
    window.client.admin().createTopics({ topics: [{ topic: 'events', numPartitions: 3 }] }),
  )
  const acks = (
    await Promise.all(
      pages.map((page, tab) =>
        page.evaluate(async (tab) => {
          const producer = window.client.producer()
          const out: { key: string; partition: number; baseOffset: number }[] = []
          await Promise.all(
            Array.from({ length: 100 }, async (_, i) => {
              const [meta] = await producer.send({
                topic: 'events',
                messages: [
                  { key: `k${i % 7}`, value: { tab, i, j: 0 } },
                  { key: `k${i % 7}`, value: { tab, i, j: 1 } },
                ],
              })
              out.push({
                key: `${tab}/${i}`,
                partition: meta!.partition,
                baseOffset: meta!.baseOffset,
              })
            }),
          )
          return out
        }, tab),
      ),
    )
  ).flat()
  expect(acks).toHaveLength(400)
  const stored = await pages[0]!.evaluate(async () => {
    const out: {
      partition: number
      offset: number
      value: { tab: number; i: number; j: number }
    }[] = []
    for (const partition of [0, 1, 2]) {
      for (let offset = 0; ;) {
        const chunk = await window.client.fetch({ topic: 'events', partition, offset })
        for (const r of chunk.records)
          out.push({ partition, offset: r.offset, value: r.value as never })
        if (chunk.nextOffset === chunk.highWatermark) break
        offset = chunk.nextOffset
      }
    }
    return out
  })
  expect(stored).toHaveLength(800)
  for (const p of [0, 1, 2]) {
    const offsets = stored.filter((r) => r.partition === p).map((r) => r.offset)
    expect(offsets).toEqual(offsets.map((_, i) => i))
  }
  const at = new Map(stored.map((r) => [`${r.partition}/${r.offset}`, r.value]))
  for (const ack of acks) {
    const [tab, i] = ack.key.split('/').map(Number)
    expect(at.get(`${ack.partition}/${ack.baseOffset}`)).toEqual({ tab, i, j: 0 })
    expect(at.get(`${ack.partition}/${ack.baseOffset + 1}`)).toEqual({ tab, i, j: 1 })
  }
  await Promise.all(pages.map((p) => p.close()))
})

test('a record sent in tab A reaches a live consumer in tab B', async ({ annotate }) => {
  const db = `live-${Date.now()}`
  const [a, b] = await tabs(db, 2)
  await a!.evaluate(() => window.client.admin().createTopics({ topics: [{ topic: 'chat' }] }))
  // B's fetches long-poll for 30 s: only the cross-tab notice can bring the record sooner, and a
  // missing notice would leave it waiting past even the hard bound below, on any machine.
  await b!.evaluate(() => window.join('readers', 'chat', 30_000))
  await new Promise((r) => setTimeout(r, 300))
  // The clock starts at the send in tab A (README: "send in tab A -> eachMessage in tab B").
  const { sentAt, ackedAt } = await a!.evaluate(async () => {
    const sentAt = performance.timeOrigin + performance.now()
    await window.client.producer().send({ topic: 'chat', messages: [{ value: 'hi from A' }] })
    return { sentAt, ackedAt: performance.timeOrigin + performance.now() }
  })
  const delivery: Deadline = {
    what: `send in tab A to eachMessage in tab B (the send's own ack took ${Math.round(ackedAt - sentAt)} ms)`,
    deadlineMs: 1000,
  }
  await until(
    async () => (await b!.evaluate(() => window.received.length)) > 0,
    hardBound(delivery),
  )
  const received = await b!.evaluate(() => window.received)
  expect(received.map((r) => r.value)).toEqual(['hi from A'])
  await expectWithinDeadline({ annotate }, received[0]!.at - sentAt, delivery)
  await Promise.all([a!.close(), b!.close()])
})

test('three tab-consumers over six partitions; closing one tab moves its partitions within 2 s', async ({
  annotate,
}) => {
  const db = `group-${Date.now()}`
  const pages = await tabs(db, 3)
  await pages[0]!.evaluate(() =>
    window.client.admin().createTopics({ topics: [{ topic: 'jobs', numPartitions: 6 }] }),
  )
  for (const page of pages) await page.evaluate(() => window.join('workers', 'jobs'))
  const assignments = (ps: Page[]) =>
    Promise.all(ps.map((p) => p.evaluate(() => window.assignment())))
  const exact = (a: number[][]) =>
    a
      .flat()
      .sort((x, y) => x - y)
      .join() === '0,1,2,3,4,5'
  await until(async () => {
    const a = await assignments(pages)
    return exact(a) && a.every((x) => x.length === 2)
  }, 5000)

  const send = (from: number) =>
    pages[0]!.evaluate(
      (from) =>
        window.client.producer().send({
          topic: 'jobs',
          messages: Array.from({ length: 30 }, (_, i) => ({
            partition: (from + i) % 6,
            value: from + i,
          })),
        }),
      from,
    )
  const received = async (ps: Page[]) =>
    (await Promise.all(ps.map((p) => p.evaluate(() => window.received)))).flat()
  await send(0)
  await until(async () => (await received(pages)).length >= 30, 5000)
  const beforeClose = await received(pages)
  expect(beforeClose).toHaveLength(30)

  // Let the last batch's commit land: records processed but not yet committed may be redone.
  await until(async () => {
    const committed = await pages[0]!.evaluate(() =>
      window.client.admin().fetchOffsets({ groupId: 'workers', topics: ['jobs'] }),
    )
    return committed[0]!.partitions.reduce((n, p) => n + p.offset, 0) === 30
  }, 3000)
  const closing = pages[2]!
  const survivors = pages.slice(0, 2)
  // The clock starts when the browser releases the closed tab's locks (README: "a closed or
  // crashed tab's locks are released by the browser and its partitions move within one poll"),
  // not when page.close() is called: how long Chromium takes to tear a tab down on a loaded
  // machine is not duality's. A survivor watches the group's member locks for that moment.
  const memberLocks = () =>
    survivors[0]!.evaluate(async () => {
      const { held = [] } = await navigator.locks.query()
      return held.filter((l) => l.name?.includes(':group:workers:member:')).length
    })
  expect(await memberLocks()).toBe(3)
  await survivors[0]!.evaluate(() => {
    const w = window as unknown as { membersDroppedAt?: Promise<number> }
    w.membersDroppedAt = (async () => {
      for (;;) {
        const { held = [] } = await navigator.locks.query()
        const members = held.filter((l) => l.name?.includes(':group:workers:member:')).length
        if (members < 3) return performance.timeOrigin + performance.now()
        await new Promise((r) => setTimeout(r, 5))
      }
    })()
  })
  const takeover: Deadline = {
    what: "survivors own all six partitions, from the closed tab's locks' release",
    deadlineMs: 2000,
  }
  const closeStart = performance.now()
  await closing.close()
  const closeMs = performance.now() - closeStart
  await until(async () => exact(await assignments(survivors)), hardBound(takeover))
  const movedAt = Date.now()
  const releasedAt = await survivors[0]!.evaluate(
    () => (window as unknown as { membersDroppedAt: Promise<number> }).membersDroppedAt,
  )
  // Exactly the closed tab's member lock went, with all of its partition locks: the survivors'
  // two members and the six partitions they now hold are all that is left of the group.
  expect(await memberLocks()).toBe(2)
  const partitionLocks = await survivors[0]!.evaluate(async () => {
    const { held = [] } = await navigator.locks.query()
    return held.filter((l) => l.name?.includes(':group:workers:partition:')).length
  })
  expect(partitionLocks).toBe(6)
  expect((await assignments(survivors)).map((a) => a.length)).toEqual([3, 3])
  await annotate(`page.close() took ${Math.round(closeMs)} ms (not counted)`, 'notice')
  await expectWithinDeadline({ annotate }, movedAt - releasedAt, takeover)

  await send(30)
  await until(
    async () => (await received(survivors)).filter((r) => (r.value as number) >= 30).length >= 30,
    5000,
  )
  const after = (await received(survivors)).filter((r) => (r.value as number) >= 30)
  // The survivors resumed from the committed offsets: each new record once, none of the old ones again.
  expect(after.map((r) => r.value as number).sort((x, y) => x - y)).toEqual(
    Array.from({ length: 30 }, (_, i) => 30 + i),
  )
  const all = await received(survivors)
  const keys = all.map((r) => `${r.partition}/${r.offset}`)
  expect(new Set(keys).size).toBe(keys.length)
  await Promise.all(survivors.map((p) => p.close()))
})
