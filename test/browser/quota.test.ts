import { afterEach, expect, test } from 'vitest'
import { openLog, QuotaExceededError } from '../../src/index.ts'
import { idbStorage } from '../../src/storage/idb/index.ts'

const realPut = IDBObjectStore.prototype.put
afterEach(() => {
  IDBObjectStore.prototype.put = realPut
})

test('IndexedDB refusing a write (QuotaExceededError) is a typed error and the send writes nothing', async () => {
  const name = `quota-${Date.now()}`
  const log = await openLog({
    storage: await idbStorage({ name }),
    cleaner: false,
    maxRowBytes: 1000,
  })
  try {
    await log.admin().createTopics({ topics: [{ topic: 'q', numPartitions: 2 }] })
    await log.producer().send({ topic: 'q', messages: [{ partition: 0, value: 'kept' }] })
    // The browser refuses the third row of the next transaction, after two rows went in: the
    // transaction must roll back as a whole. (Playwright's contexts are off the record, where
    // Chromium ignores the DevTools quota override, so the refusal is injected at the request.)
    let puts = 0
    IDBObjectStore.prototype.put = function (
      this: IDBObjectStore,
      ...args: Parameters<IDBObjectStore['put']>
    ) {
      if (this.name === 'batches' && ++puts === 3) {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
      }
      return realPut.apply(this, args)
    }
    const big = Array.from({ length: 30 }, (_, i) => ({ partition: i % 2, value: 'x'.repeat(300) }))
    const error = await log
      .producer()
      .send({ topic: 'q', messages: big })
      .catch((e: unknown) => e)
    IDBObjectStore.prototype.put = realPut
    expect(error).toBeInstanceOf(QuotaExceededError)
    expect((error as QuotaExceededError).code).toBe('QUOTA_EXCEEDED')
    expect((error as Error).message).toMatch(/Nothing of this write was stored/)
    expect((await log.admin().fetchTopicOffsets('q')).map((o) => o.high)).toEqual([1, 0])
    const after = await log.fetch({ topic: 'q', partition: 0, offset: 0 })
    expect(after.records.map((r) => r.value)).toEqual(['kept'])
    // And the log goes on working afterwards.
    const ok = await log
      .producer()
      .send({ topic: 'q', messages: [{ partition: 1, value: 'next' }] })
    expect(ok[0]!.baseOffset).toBe(0)
  } finally {
    await log.close()
    indexedDB.deleteDatabase(name)
  }
})
