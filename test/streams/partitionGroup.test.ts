import { describe, expect, test } from 'vitest'
import { memoryStorage, openLog, type Log } from '../../src/index.ts'
import { PartitionGroup, type InputBatch } from '../../src/streams/PartitionGroup.ts'

// Kafka's PartitionGroup.readyToProcess (KIP-353, KIP-695): while some input partitions of a task
// have records and others are empty (and caught up: no lag), the task waits up to
// max.task.idle.ms for the empty ones, each from the moment it is first seen empty; once every
// empty partition's deadline has passed, it processes what it has ("enforced processing").
// max.task.idle.ms = 0 waits for nothing beyond what was fetched; -1 never waits.

async function twoInputs() {
  let now = 0
  const log = await openLog({ storage: memoryStorage(), cleaner: false, clock: () => now })
  await log.admin().createTopics({ topics: [{ topic: 'left' }, { topic: 'right' }] })
  return {
    log,
    setClock: (ms: number) => {
      now = ms
    },
    send: (topic: string, value: string, timestamp: number) =>
      log.producer().send({ topic, messages: [{ key: 'k', value, timestamp }] }),
  }
}

function groupOf(log: Log, maxTaskIdleMs: number) {
  const group = new PartitionGroup(log, maxTaskIdleMs)
  group.add('left', 0, 0)
  group.add('right', 0, 0)
  // A test has no append events: every next() reads every partition, as after a poll.
  const next = async (): Promise<InputBatch | null> => {
    group.refresh()
    const batch = await group.next(100)
    if (batch) group.committed(batch)
    return batch
  }
  const values = (batch: InputBatch | null) => batch?.records.map((r) => r.value) ?? null
  return { group, next, values }
}

describe('max.task.idle.ms (PartitionGroup.readyToProcess)', () => {
  test('an empty input is waited for; its earlier record, arriving within the idle time, goes first', async () => {
    const { log, setClock, send } = await twoInputs()
    const { group, next, values } = groupOf(log, 1000)
    await send('right', 'r@100', 100)
    setClock(0)
    expect(await next()).toBeNull() // 'left' is empty and caught up: wait until 0 + 1000
    expect(group.waitingUntil).toBe(1000)
    setClock(999)
    expect(await next()).toBeNull()
    await send('left', 'l@50', 50)
    expect(values(await next())).toEqual(['l@50'])
    // 'left' is empty again: its wait starts anew (now 999, until 1999).
    expect(await next()).toBeNull()
    expect(group.waitingUntil).toBe(1999)
    await send('left', 'l@150', 150)
    expect(values(await next())).toEqual(['r@100'])
    // Now 'right' is the empty one: 'l@150' waits for it in turn.
    expect(await next()).toBeNull()
    expect(group.waitingUntil).toBe(1999)
    setClock(1999)
    expect(values(await next())).toEqual(['l@150'])
    await log.close()
  })

  test('past the idle time, the other input is processed without it (enforced processing)', async () => {
    const { log, setClock, send } = await twoInputs()
    const { group, next, values } = groupOf(log, 1000)
    await send('right', 'r@100', 100)
    setClock(0)
    expect(await next()).toBeNull()
    setClock(1000) // the deadline: Kafka waits while wall-clock time < deadline
    expect(values(await next())).toEqual(['r@100'])
    expect(group.waitingUntil).toBeUndefined()
    // The earlier record comes too late to go first: it is processed after, out of order, once
    // the drained 'right' has been waited for in turn.
    await send('left', 'l@50', 50)
    expect(await next()).toBeNull()
    setClock(2000)
    expect(values(await next())).toEqual(['l@50'])
    await log.close()
  })

  test('an input that has been empty for longer than the idle time does not hold the others', async () => {
    const { log, setClock, send } = await twoInputs()
    const { next, values } = groupOf(log, 1000)
    setClock(0)
    expect(await next()).toBeNull() // nothing anywhere; both partitions' waits start now
    setClock(5000)
    await send('right', 'r@100', 100)
    expect(values(await next())).toEqual(['r@100'])
    await log.close()
  })

  // Kafka's task is one partition number of the co-partitioned inputs (task 0_0 reads partition 0
  // of each): an empty partition 1 belongs to another task and holds nobody back.
  test('only the empty partitions of the same number (the same task) are waited for', async () => {
    let now = 0
    const log = await openLog({ storage: memoryStorage(), cleaner: false, clock: () => now })
    await log.admin().createTopics({
      topics: [
        { topic: 'left', numPartitions: 2 },
        { topic: 'right', numPartitions: 2 },
      ],
    })
    const group = new PartitionGroup(log, 1000)
    for (const topic of ['left', 'right']) for (const p of [0, 1]) group.add(topic, p, 0)
    const send = (topic: string, partition: number, value: string, timestamp: number) =>
      log.producer().send({ topic, messages: [{ key: 'k', value, partition, timestamp }] })
    await send('left', 0, 'l0@10', 10)
    await send('right', 0, 'r0@20', 20)
    await send('left', 1, 'l1@5', 5) // right-1 is empty: this one waits
    group.refresh()
    const first = await group.next(100)
    expect(first?.records.map((r) => r.value)).toEqual(['l0@10'])
    group.committed(first!)
    group.refresh()
    // left-0 is now empty: r0@20 waits for it too; nothing else is ready.
    expect(await group.next(100)).toBeNull()
    expect(group.waitingUntil).toBe(1000)
    now = 1000
    group.refresh()
    const values: unknown[] = []
    for (let batch = await group.next(100); batch; batch = await group.next(100)) {
      values.push(...batch.records.map((r) => r.value))
      group.committed(batch)
    }
    expect(values).toEqual(['l1@5', 'r0@20'])
    await log.close()
  })

  test('0 (the default) and -1 process the buffered input at once', async () => {
    for (const idle of [0, -1]) {
      const { log, send } = await twoInputs()
      const { group, next, values } = groupOf(log, idle)
      await send('right', 'r@100', 100)
      expect(values(await next())).toEqual(['r@100'])
      expect(group.waitingUntil).toBeUndefined()
      await log.close()
    }
  })

  test('with every input buffered, records go in timestamp order and nothing waits', async () => {
    const { log, send } = await twoInputs()
    const { next, values } = groupOf(log, 60_000)
    await send('right', 'r@5', 5)
    await send('left', 'l@1', 1)
    await send('left', 'l@9', 9)
    expect(values(await next())).toEqual(['l@1'])
    expect(values(await next())).toEqual(['r@5'])
    // 'right' is now empty: 'l@9' waits for it (the clock stands still).
    expect(await next()).toBeNull()
    await log.close()
  })
})
