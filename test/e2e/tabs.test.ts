import { afterAll, beforeAll, expect, test } from 'vitest'
import { startChromium, type ChromiumHarness } from '../support/chromium.ts'

let chromium: ChromiumHarness
beforeAll(async () => {
  chromium = await startChromium()
})
afterAll(() => chromium?.close())

interface Ack {
  tab: number
  send: number
  partition: number
  baseOffset: number
}

test('three tabs appending to one IndexedDB log at once get one dense order, nothing lost or doubled', async () => {
  const pages = await Promise.all([0, 1, 2].map(() => chromium.open('log.html')))
  const name = `tabs-${Date.now()}`
  await pages[0]!.evaluate(async (name) => {
    const { openLog, idbStorage } = window.duality
    const log = await openLog({ storage: await idbStorage({ name }), cleaner: false })
    await log.admin().createTopics({ topics: [{ topic: 'shared', numPartitions: 2 }] })
    await log.close()
  }, name)
  // Every tab fires 150 sends of 4 records, some one at a time and some concurrently, so that the
  // tabs' transactions interleave and each tab's cached partition heads keep going stale.
  const acks = (
    await Promise.all(
      pages.map((page, tab) =>
        page.evaluate(
          async ({ name, tab }) => {
            const { openLog, idbStorage } = window.duality
            const log = await openLog({ storage: await idbStorage({ name }), cleaner: false })
            const producer = log.producer()
            const acks: { tab: number; send: number; partition: number; baseOffset: number }[] = []
            const send = async (i: number) => {
              const messages = Array.from({ length: 4 }, (_, j) => ({
                partition: i % 2,
                value: { tab, send: i, j },
              }))
              const [meta] = await producer.send({ topic: 'shared', messages })
              acks.push({ tab, send: i, partition: meta!.partition, baseOffset: meta!.baseOffset })
            }
            for (let i = 0; i < 50; i++) await send(i)
            await Promise.all(Array.from({ length: 100 }, (_, i) => send(50 + i)))
            await log.close()
            return acks
          },
          { name, tab },
        ),
      ),
    )
  ).flat() as Ack[]
  expect(acks).toHaveLength(450)
  const stored = await pages[0]!.evaluate(async (name) => {
    const { openLog, idbStorage } = window.duality
    const log = await openLog({ storage: await idbStorage({ name }), cleaner: false })
    const out: {
      partition: number
      offset: number
      value: { tab: number; send: number; j: number }
    }[] = []
    for (const partition of [0, 1]) {
      for (let offset = 0; ;) {
        const chunk = await log.fetch<{ tab: number; send: number; j: number }>({
          topic: 'shared',
          partition,
          offset,
        })
        for (const r of chunk.records) out.push({ partition, offset: r.offset, value: r.value! })
        if (chunk.nextOffset === chunk.highWatermark) break
        offset = chunk.nextOffset
      }
    }
    await log.close()
    return out
  }, name)
  for (const partition of [0, 1]) {
    const offsets = stored.filter((r) => r.partition === partition).map((r) => r.offset)
    expect(offsets).toEqual(offsets.map((_, i) => i))
  }
  expect(stored).toHaveLength(450 * 4)
  // Each acknowledged send sits, whole and in order, at the offsets it was told.
  const at = new Map(stored.map((r) => [`${r.partition}/${r.offset}`, r.value]))
  for (const ack of acks) {
    for (let j = 0; j < 4; j++) {
      expect(at.get(`${ack.partition}/${ack.baseOffset + j}`)).toEqual({
        tab: ack.tab,
        send: ack.send,
        j,
      })
    }
  }
})
