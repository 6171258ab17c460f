import { afterAll, beforeAll, expect, test } from 'vitest'
import { startChromium, type ChromiumHarness } from '../support/chromium.ts'

let chromium: ChromiumHarness
beforeAll(async () => {
  chromium = await startChromium()
})
afterAll(() => chromium?.close())

test('the log in IndexedDB survives a page reload', async () => {
  const page = await chromium.open('log.html')
  const written = await page.evaluate(async () => {
    const { openLog, idbStorage } = window.duality
    const log = await openLog({ storage: await idbStorage({ name: 'reload' }), cleaner: false })
    await log.admin().createTopics({
      topics: [
        {
          topic: 'notes',
          numPartitions: 2,
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
    })
    const sent = await log.producer().send({
      topic: 'notes',
      messages: Array.from({ length: 50 }, (_, i) => ({ key: `n${i % 5}`, value: { i } })),
    })
    await log
      .consumer({ groupId: 'ui' })
      .commitOffsets([{ topic: 'notes', partition: 0, offset: 3 }])
    // No close: a reload is what a user does, not a clean shutdown.
    return sent.length
  })
  expect(written).toBeGreaterThan(0)
  await page.reload()
  await page.waitForFunction(() => window.ready === true)
  const after = await page.evaluate(async () => {
    const { openLog, idbStorage } = window.duality
    const log = await openLog({ storage: await idbStorage({ name: 'reload' }), cleaner: false })
    const admin = log.admin()
    const values: number[] = []
    for (const { partition, high } of await admin.fetchTopicOffsets('notes')) {
      let offset = 0
      while (offset < high) {
        const chunk = await log.fetch<{ i: number }>({ topic: 'notes', partition, offset })
        for (const r of chunk.records) values.push(r.value!.i)
        offset = chunk.nextOffset
      }
    }
    const meta = await admin.fetchTopicMetadata({ topics: ['notes'] })
    const committed = await admin.fetchOffsets({ groupId: 'ui', topics: ['notes'] })
    await log.close()
    return {
      values: values.sort((a, b) => a - b),
      policy: meta.topics[0]!.config['cleanup.policy'],
      committed: committed[0]!.partitions[0]!.offset,
    }
  })
  expect(after.values).toEqual(Array.from({ length: 50 }, (_, i) => i))
  expect(after.policy).toBe('compact')
  expect(after.committed).toBe(3)
})
