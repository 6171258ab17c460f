import { afterEach, beforeEach, expect, test } from 'vitest'
import {
  InvalidRecordError,
  OutOfOrderSequenceError,
  ProducerFencedError,
  UnknownTopicError,
  type OutboundRecord,
  type SyncTransport,
  type TopicSpec,
} from '../../src/index.ts'

export interface TransportUnderTest {
  transport: SyncTransport
  createTopic(spec: TopicSpec): Promise<void>
  deleteTopic(topic: string): Promise<void>
  close(): Promise<void>
}

const record = (key: string | null, value: unknown, timestamp: number): OutboundRecord => ({
  key,
  value: JSON.stringify(value),
  headers: null,
  timestamp,
})

/**
 * What every sync transport must do, whatever it talks to (hono's runTest pattern): the HTTP
 * transport against duality's server and the in-process memoryTransport both pass it.
 */
export function transportContract(open: () => Promise<TransportUnderTest>): void {
  let t: TransportUnderTest
  beforeEach(async () => {
    t = await open()
    await t.createTopic({ topic: 'orders', numPartitions: 2 })
  })
  afterEach(() => t.close())

  test('describes a topic: partitions, config, and an id that changes when it is re-created', async () => {
    const first = await t.transport.describeTopic('orders')
    expect(first.numPartitions).toBe(2)
    expect(first.configEntries).toContainEqual({ name: 'cleanup.policy', value: 'delete' })
    expect((await t.transport.describeTopic('orders')).id).toBe(first.id)
    await t.deleteTopic('orders')
    await t.createTopic({ topic: 'orders', numPartitions: 2 })
    expect((await t.transport.describeTopic('orders')).id).not.toBe(first.id)
    await expect(t.transport.describeTopic('nope')).rejects.toThrow(UnknownTopicError)
  })

  test('appends a batch and reads it back with offsets, keys, JSON values, headers and timestamps', async () => {
    const empty = await t.transport.read('orders', 1, 'start', { live: false })
    expect(empty).toMatchObject({ records: [], nextOffset: 0, upToDate: true })
    const sent = [
      record('a', { n: 1 }, 1000),
      { ...record(null, [1, 'two'], 1001), headers: { trace: 'x' } },
      { key: 'c', value: null, headers: null, timestamp: 1002 },
    ]
    expect(await t.transport.append('orders', 1, sent, { id: 'p', epoch: 0, seq: 0 })).toEqual({
      duplicate: false,
    })
    const chunk = await t.transport.read('orders', 1, 0, { live: false })
    expect(chunk.records).toEqual([
      { offset: 0, timestamp: 1000, key: 'a', value: '{"n":1}', headers: null },
      { offset: 1, timestamp: 1001, key: null, value: '[1,"two"]', headers: { trace: 'x' } },
      { offset: 2, timestamp: 1002, key: 'c', value: null, headers: null },
    ])
    expect(chunk).toMatchObject({ nextOffset: 3, upToDate: true })
    const from2 = await t.transport.read('orders', 1, 2, { live: false })
    expect(from2.records.map((r) => r.offset)).toEqual([2])
  })

  test('a retried batch is a duplicate and writes nothing; gaps and stale epochs are refused', async () => {
    const batch = [record('a', 1, 1)]
    await t.transport.append('orders', 0, batch, { id: 'p', epoch: 0, seq: 0 })
    expect(await t.transport.append('orders', 0, batch, { id: 'p', epoch: 0, seq: 0 })).toEqual({
      duplicate: true,
    })
    await expect(
      t.transport.append('orders', 0, batch, { id: 'p', epoch: 0, seq: 5 }),
    ).rejects.toThrow(OutOfOrderSequenceError)
    await t.transport.append('orders', 0, [record('b', 2, 2)], { id: 'p', epoch: 1, seq: 0 })
    await expect(
      t.transport.append('orders', 0, batch, { id: 'p', epoch: 0, seq: 1 }),
    ).rejects.toThrow(ProducerFencedError)
    const { records } = await t.transport.read('orders', 0, 0, { live: false })
    expect(records.map((r) => r.key)).toEqual(['a', 'b'])
  })

  test('a batch the topic refuses is refused whole', async () => {
    await t.createTopic({
      topic: 'rates',
      configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
    })
    await expect(
      t.transport.append('rates', 0, [record('EUR', 1.1, 1), record(null, 2, 2)], {
        id: 'p',
        epoch: 0,
        seq: 0,
      }),
    ).rejects.toThrow(InvalidRecordError)
    const { records } = await t.transport.read('rates', 0, 'start', { live: false })
    expect(records).toEqual([])
  })

  test('a live read at the end waits for the next append', async () => {
    const reading = t.transport.read('orders', 0, 0, { live: true })
    await new Promise((r) => setTimeout(r, 50))
    await t.transport.append('orders', 0, [record('late', 1, 5)], { id: 'q', epoch: 0, seq: 0 })
    const chunk = await reading
    expect(chunk.records.map((r) => r.key)).toEqual(['late'])
  })
}
