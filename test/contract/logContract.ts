import {
  keyPartition,
  openLog,
  type DualityError,
  type Log,
  type LogOptions,
  type LogStorage,
  type Message,
} from '../../src/index.ts'

/**
 * The contract every LogStorage adapter must pass, run against memory and fake-indexeddb in Node
 * and real IndexedDB in Chromium (hono's runTest({ newRouter }) pattern: one suite, many backends).
 */
export interface StorageFactory {
  /** A new, empty storage. */
  create(): Promise<LogStorage>
  /** Opens the same data again after the storage passed in was closed. */
  reopen(closed: LogStorage): Promise<LogStorage>
}

/** The jest-style matchers the suite uses; vitest's expect fits, and so does the worker's. */
export interface Assertion {
  toBe(expected: unknown): void
  toEqual(expected: unknown): void
  toMatch(expected: RegExp | string): void
  toMatchObject(expected: object): void
  toHaveLength(expected: number): void
  toBeGreaterThan(expected: number): void
  toBeGreaterThanOrEqual(expected: number): void
  toBeLessThan(expected: number): void
  toBeLessThanOrEqual(expected: number): void
}

/**
 * The test API the suite is written against, passed in rather than imported so that the same
 * suite also runs inside a Web Worker (test/browser/contractWorker.ts), where vitest cannot.
 */
export interface ContractApi {
  describe(name: string, body: () => void): void
  test(name: string, body: () => Promise<void>): void
  expect(actual: unknown, message?: string): Assertion
}

let expect: ContractApi['expect']

/** Counts write transactions, to see group commit at work. */
function counting(storage: LogStorage): LogStorage & { writes: number } {
  const counted = {
    kind: storage.kind,
    writes: 0,
    read: storage.read.bind(storage),
    write: ((stores, body, options) => {
      counted.writes++
      return storage.write(stores, body, options)
    }) as LogStorage['write'],
    close: storage.close.bind(storage),
  }
  return counted
}

/** Fails any transaction that tries to store a record whose value is "POISON", as a full disk would. */
function poisoning(storage: LogStorage): LogStorage {
  return {
    kind: storage.kind,
    read: storage.read.bind(storage),
    write: ((stores, body, options) =>
      storage.write(
        stores,
        (tx) =>
          body({
            ...tx,
            get: tx.get.bind(tx),
            getAll: tx.getAll.bind(tx),
            getLast: tx.getLast.bind(tx),
            delete: tx.delete.bind(tx),
            deleteRange: tx.deleteRange.bind(tx),
            put(store, row) {
              if (
                store === 'batches' &&
                (row as { values: unknown[] }).values.includes('"POISON"')
              ) {
                throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
              }
              tx.put(store, row)
            },
          }),
        options,
      )) as LogStorage['write'],
    close: storage.close.bind(storage),
  }
}

async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  message?: RegExp,
): Promise<DualityError> {
  const error = (await promise.then(
    () => {
      throw new Error(`expected a ${code} error, but the call succeeded`)
    },
    (e: unknown) => e,
  )) as DualityError
  expect(error.code, error.message).toBe(code)
  if (message) expect(error.message).toMatch(message)
  return error
}

async function readAll(log: Log, topic: string, partition: number, offset = 0): Promise<Message[]> {
  const out: Message[] = []
  for (;;) {
    const chunk = await log.fetch({ topic, partition, offset, maxRecords: 7 })
    out.push(...chunk.records)
    if (chunk.nextOffset === chunk.highWatermark) return out
    offset = chunk.nextOffset
  }
}

export function logContract(name: string, factory: StorageFactory, api: ContractApi): void {
  const { describe, test } = api
  expect = api.expect
  describe(`log contract: ${name}`, () => {
    const open = async (extra: Partial<LogOptions> = {}) => {
      const storage = await factory.create()
      const log = await openLog({ storage, cleaner: false, ...extra })
      return { log, storage, admin: log.admin(), producer: log.producer() }
    }

    test('creates, describes, lists and deletes topics', async () => {
      const { log, admin } = await open()
      expect(
        await admin.createTopics({ topics: [{ topic: 'a', numPartitions: 3 }, { topic: 'b' }] }),
      ).toBe(true)
      expect((await admin.listTopics()).sort()).toEqual(['a', 'b'])
      const meta = await admin.fetchTopicMetadata({ topics: ['a'] })
      expect(meta.topics[0]!.partitions.map((p) => p.partitionId)).toEqual([0, 1, 2])
      expect(meta.topics[0]!.config['cleanup.policy']).toBe('delete')
      expect(await admin.createTopics({ topics: [{ topic: 'a' }], ifNotExists: true })).toBe(false)
      await admin.deleteTopics({ topics: ['a'] })
      expect(await admin.listTopics()).toEqual(['b'])
      await rejectsWith(admin.fetchTopicOffsets('a'), 'UNKNOWN_TOPIC_OR_PARTITION')
      await log.close()
    })

    test('rejects bad topic definitions with typed errors and creates nothing', async () => {
      const { log, admin } = await open()
      await admin.createTopics({ topics: [{ topic: 'x' }] })
      await rejectsWith(
        admin.createTopics({ topics: [{ topic: 'y' }, { topic: 'x' }] }),
        'TOPIC_ALREADY_EXISTS',
      )
      for (const numPartitions of [0, -1, 1.5, Number.NaN]) {
        await rejectsWith(
          admin.createTopics({ topics: [{ topic: 'y', numPartitions }] }),
          'INVALID_PARTITIONS',
        )
      }
      await rejectsWith(
        admin.createTopics({
          topics: [{ topic: 'y', configEntries: [{ name: 'cleanup.policy', value: 'shred' }] }],
        }),
        'INVALID_CONFIG',
        /cleanup.policy/,
      )
      await rejectsWith(
        admin.createTopics({
          topics: [{ topic: 'y', configEntries: [{ name: 'retention.ms', value: 'soon' }] }],
        }),
        'INVALID_CONFIG',
        /retention.ms/,
      )
      await rejectsWith(
        admin.createTopics({
          topics: [{ topic: 'y', configEntries: [{ name: 'no.such.thing', value: '1' }] }],
        }),
        'INVALID_CONFIG',
        /unknown config/,
      )
      await rejectsWith(
        admin.createTopics({ topics: [{ topic: 'bad name!' }] }),
        'INVALID_ARGUMENT',
      )
      await rejectsWith(admin.deleteTopics({ topics: ['x', 'nope'] }), 'UNKNOWN_TOPIC_OR_PARTITION')
      expect(await admin.listTopics()).toEqual(['x'])
      await log.close()
    })

    test('sends get dense offsets per partition, in order, as KafkaJS reports them', async () => {
      const { log, admin, producer } = await open()
      await admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] })
      const first = await producer.send({
        topic: 't',
        messages: [
          { partition: 0, value: 'a' },
          { partition: 1, value: 'b' },
          { partition: 0, value: 'c' },
        ],
      })
      expect(first).toEqual([
        {
          topicName: 't',
          partition: 0,
          errorCode: 0,
          baseOffset: 0,
          logAppendTime: -1,
          logStartOffset: 0,
        },
        {
          topicName: 't',
          partition: 1,
          errorCode: 0,
          baseOffset: 0,
          logAppendTime: -1,
          logStartOffset: 0,
        },
      ])
      const second = await producer.send({ topic: 't', messages: [{ partition: 0, value: 'd' }] })
      expect(second[0]!.baseOffset).toBe(2)
      expect((await readAll(log, 't', 0)).map((m) => [m.offset, m.value])).toEqual([
        [0, 'a'],
        [1, 'c'],
        [2, 'd'],
      ])
      expect(await admin.fetchTopicOffsets('t')).toEqual([
        { partition: 0, low: 0, high: 3, offset: 3 },
        { partition: 1, low: 0, high: 1, offset: 1 },
      ])
      await log.close()
    })

    test("keyed records land where Kafka's default partitioner puts them; keyless ones stick per send", async () => {
      const { log, admin, producer } = await open()
      await admin.createTopics({ topics: [{ topic: 'k', numPartitions: 5 }] })
      const keys = Array.from({ length: 40 }, (_, i) => `user-${i}`)
      await producer.send({ topic: 'k', messages: keys.map((key) => ({ key, value: key })) })
      for (let p = 0; p < 5; p++) {
        for (const m of await readAll(log, 'k', p)) expect(keyPartition(m.key as string, 5)).toBe(p)
      }
      const keyless = await producer.send({
        topic: 'k',
        messages: [{ value: 1 }, { value: 2 }, { value: 3 }],
      })
      expect(keyless).toHaveLength(1)
      const again = await producer.send({ topic: 'k', messages: [{ value: 4 }] })
      expect(again[0]!.partition).toBe((keyless[0]!.partition + 1) % 5)
      await log.close()
    })

    test('keeps timestamps, headers and byte keys; null values are tombstones', async () => {
      const { log, admin, producer } = await open()
      await admin.createTopics({ topics: [{ topic: 'h' }] })
      const before = Date.now()
      await producer.send({
        topic: 'h',
        messages: [
          {
            key: 'a',
            value: { n: 1 },
            timestamp: 1234,
            headers: { trace: 'x', bin: new Uint8Array([1, 2]) },
          },
          { key: new Uint8Array([0, 255]), value: null },
          { value: [1, 'two'] },
        ],
      })
      const [a, b, c] = await readAll(log, 'h', 0)
      expect(a).toEqual({
        offset: 0,
        timestamp: 1234,
        key: 'a',
        value: { n: 1 },
        headers: { trace: 'x', bin: new Uint8Array([1, 2]) },
      })
      expect(b).toMatchObject({
        offset: 1,
        key: new Uint8Array([0, 255]),
        value: null,
        headers: null,
      })
      expect(c!.timestamp).toBeGreaterThanOrEqual(before)
      expect(c!.value).toEqual([1, 'two'])
      await log.close()
    })

    test('a bad message fails its whole send with a typed error and leaves the log unchanged', async () => {
      const { log, admin, producer } = await open()
      await admin.createTopics({
        topics: [
          {
            topic: 'd',
            numPartitions: 2,
            configEntries: [{ name: 'max.message.bytes', value: '100' }],
          },
          { topic: 'c', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
        ],
      })
      await producer.send({ topic: 'd', messages: [{ partition: 0, value: 'ok' }] })
      const good = { partition: 0, value: 'fine' }
      await rejectsWith(
        producer.send({ topic: 'd', messages: [good, { value: 'x'.repeat(200) }] }),
        'MESSAGE_TOO_LARGE',
        /max.message.bytes/,
      )
      await rejectsWith(
        producer.send({ topic: 'd', messages: [good, { partition: 2, value: 1 }] }),
        'INVALID_PARTITIONS',
      )
      await rejectsWith(
        producer.send({ topic: 'd', messages: [good, { value: 1, timestamp: -5 }] }),
        'INVALID_RECORD',
      )
      await rejectsWith(
        producer.send({ topic: 'd', messages: [good, { value: 10n }] }),
        'INVALID_RECORD',
      )
      await rejectsWith(
        producer.send({ topic: 'd', messages: [good, { key: 42, value: 1 }] }),
        'INVALID_RECORD',
      )
      await rejectsWith(
        producer.send({ topic: 'c', messages: [{ key: 'k', value: 1 }, { value: 2 }] }),
        'INVALID_RECORD',
        /compacted/,
      )
      await rejectsWith(
        producer.send({ topic: 'nope', messages: [good] }),
        'UNKNOWN_TOPIC_OR_PARTITION',
      )
      await rejectsWith(
        producer.sendBatch({
          topicMessages: [
            { topic: 'd', messages: [good] },
            { topic: 'c', messages: [{ value: 1 }] },
          ],
        }),
        'INVALID_RECORD',
      )
      expect(await admin.fetchTopicOffsets('d')).toEqual([
        { partition: 0, low: 0, high: 1, offset: 1 },
        { partition: 1, low: 0, high: 0, offset: 0 },
      ])
      expect((await admin.fetchTopicOffsets('c'))[0]!.high).toBe(0)
      await log.close()
    })

    test('concurrent sends share transactions (group commit) and every one gets its own offsets', async () => {
      const storage = counting(await factory.create())
      const log = await openLog({ storage, cleaner: false })
      await log.admin().createTopics({ topics: [{ topic: 'g', numPartitions: 2 }] })
      const producer = log.producer()
      const writesBefore = storage.writes
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          producer.send({ topic: 'g', messages: [{ partition: i % 2, value: i }] }),
        ),
      )
      expect(storage.writes - writesBefore).toBeLessThanOrEqual(3)
      for (const p of [0, 1]) {
        const offsets = results.filter((r) => r[0]!.partition === p).map((r) => r[0]!.baseOffset)
        expect(offsets).toEqual(Array.from({ length: 100 }, (_, i) => i))
        const values = (await readAll(log, 'g', p)).map((m) => m.value)
        expect(values).toEqual(Array.from({ length: 100 }, (_, i) => 2 * i + p))
      }
      await log.close()
    })

    test('a storage failure in a shared transaction fails only the send that caused it', async () => {
      const log = await openLog({ storage: poisoning(await factory.create()), cleaner: false })
      await log.admin().createTopics({ topics: [{ topic: 'f', numPartitions: 2 }] })
      const producer = log.producer()
      const sends = ['a', 'b', 'POISON', 'c'].map((value, i) =>
        producer.send({
          topic: 'f',
          messages: [
            { partition: i % 2, value: 'first' },
            { partition: 0, value },
          ],
        }),
      )
      const outcomes = await Promise.allSettled(sends)
      expect(outcomes.map((o) => o.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
      ])
      expect(((outcomes[2] as PromiseRejectedResult).reason as DualityError).code).toBe(
        'QUOTA_EXCEEDED',
      )
      const p0 = (await readAll(log, 'f', 0)).map((m) => m.value)
      const p1 = (await readAll(log, 'f', 1)).map((m) => m.value)
      expect([...p0, ...p1].filter((v) => v !== 'first').sort()).toEqual(['a', 'b', 'c'])
      // The poisoned send's other record (to partition 0) is gone with it: 3 sends x 2 records.
      expect(p0.length + p1.length).toBe(6)
      await log.close()
    })

    test('reads in bounded chunks from any offset; bad offsets are typed errors', async () => {
      const { log, admin, producer } = await open({ maxRowBytes: 400 })
      await admin.createTopics({ topics: [{ topic: 'r' }] })
      for (let i = 0; i < 10; i++) {
        await producer.send({
          topic: 'r',
          messages: Array.from({ length: 10 }, (_, j) => ({ value: i * 10 + j })),
        })
      }
      const middle = await log.fetch({ topic: 'r', partition: 0, offset: 37, maxRecords: 5 })
      expect(middle.records.map((m) => m.value)).toEqual([37, 38, 39, 40, 41])
      expect(middle.nextOffset).toBe(42)
      const small = await log.fetch({ topic: 'r', partition: 0, offset: 0, maxBytes: 1 })
      expect(small.records.length).toBeGreaterThan(0)
      expect(small.records.length).toBeLessThan(100)
      expect(small.nextOffset).toBe(small.records.length)
      expect((await readAll(log, 'r', 0, 13)).map((m) => m.value)).toEqual(
        Array.from({ length: 87 }, (_, i) => i + 13),
      )
      const end = await log.fetch({ topic: 'r', partition: 0, offset: 100 })
      expect(end).toMatchObject({ records: [], nextOffset: 100, highWatermark: 100 })
      await rejectsWith(log.fetch({ topic: 'r', partition: 0, offset: 101 }), 'OFFSET_OUT_OF_RANGE')
      await rejectsWith(log.fetch({ topic: 'r', partition: 0, offset: -1 }), 'INVALID_OFFSET')
      await rejectsWith(log.fetch({ topic: 'r', partition: 0, offset: 1.5 }), 'INVALID_OFFSET')
      await rejectsWith(log.fetch({ topic: 'r', partition: 1, offset: 0 }), 'INVALID_PARTITIONS')
      await log.close()
    })

    test('finds offsets by timestamp', async () => {
      const { log, admin, producer } = await open({ maxRowBytes: 200 })
      await admin.createTopics({ topics: [{ topic: 'ts', numPartitions: 2 }] })
      await producer.send({
        topic: 'ts',
        messages: [10, 20, 30, 25, 40].map((timestamp, i) => ({
          partition: 0,
          value: i,
          timestamp,
        })),
      })
      const at = async (t: number) => (await admin.fetchTopicOffsetsByTimestamp('ts', t))[0]!.offset
      expect(await at(0)).toBe(0)
      expect(await at(20)).toBe(1)
      expect(await at(21)).toBe(2)
      expect(await at(26)).toBe(2)
      expect(await at(35)).toBe(4)
      expect(await at(41)).toBe(5)
      expect((await admin.fetchTopicOffsetsByTimestamp('ts', 0))[1]).toEqual({
        partition: 1,
        offset: 0,
      })
      await log.close()
    })

    test('data survives closing and reopening the storage', async () => {
      const storage = await factory.create()
      const log = await openLog({ storage, cleaner: false })
      await log.admin().createTopics({ topics: [{ topic: 'p', numPartitions: 2 }] })
      await log.producer().send({
        topic: 'p',
        messages: [
          { key: 'a', value: 1 },
          { key: 'b', value: 2 },
        ],
      })
      await log.consumer({ groupId: 'g' }).commitOffsets([{ topic: 'p', partition: 1, offset: 1 }])
      await log.close()
      const again = await openLog({ storage: await factory.reopen(storage), cleaner: false })
      const sent = await again.producer().send({ topic: 'p', messages: [{ key: 'a', value: 3 }] })
      expect(sent[0]!.baseOffset).toBeGreaterThan(0)
      const all = [...(await readAll(again, 'p', 0)), ...(await readAll(again, 'p', 1))]
      expect(all.map((m) => m.value).sort()).toEqual([1, 2, 3])
      const offsets = await again.admin().fetchOffsets({ groupId: 'g', topics: ['p'] })
      expect(offsets[0]!.partitions[1]).toEqual({ partition: 1, offset: 1, metadata: null })
      await again.close()
    })

    test("a roll, and the cleaner's roll of an idle segment, make the tail compactable; it survives reopening", async () => {
      // Kafka's UnifiedLog.roll, and duality's roll at segment.ms with no append (Cleaner.rollIdle):
      // each is one write of the partition head and the closed segment, on every backend.
      let now = 1_700_000_000_000
      const storage = await factory.create()
      const log = await openLog({ storage, cleaner: false, clock: () => now })
      await log.admin().createTopics({
        topics: [
          {
            topic: 'r',
            configEntries: [
              { name: 'cleanup.policy', value: 'compact' },
              { name: 'segment.ms', value: 1000 },
            ],
          },
        ],
      })
      const send = async (to: Log, key: string, value: number) =>
        (await to.producer().send({ topic: 'r', messages: [{ key, value, partition: 0 }] }))[0]!
          .baseOffset
      const clean = async () =>
        (await log.cleaner.run({ topics: ['r'], force: true }))[0]!.compaction
      await send(log, 'a', 1)
      await send(log, 'a', 2)
      expect(await log.roll('r')).toEqual([
        { topic: 'r', partition: 0, baseOffset: 2, rolled: true },
      ])
      await send(log, 'a', 3)
      await send(log, 'b', 1)
      // [0, 1] is closed: a@0 goes. [2, 3] is active and young: untouched.
      expect(await clean()).toEqual({ cleanedUpTo: 2, removedRecords: 1 })
      // No send for segment.ms: the cleaner rolls [2, 3] itself, and a@1 goes too.
      now += 1000
      expect(await clean()).toEqual({ cleanedUpTo: 4, removedRecords: 1 })
      const rows = async (from: Log) =>
        (await readAll(from, 'r', 0)).map((m) => [m.offset, m.key, m.value])
      expect(await rows(log)).toEqual([
        [2, 'a', 3],
        [3, 'b', 1],
      ])
      await log.close()
      const again = await openLog({
        storage: await factory.reopen(storage),
        cleaner: false,
        clock: () => now,
      })
      expect(await rows(again)).toEqual([
        [2, 'a', 3],
        [3, 'b', 1],
      ])
      expect(await send(again, 'a', 4)).toBe(4)
      await again.close()
    })

    test('commits and fetches group offsets; deleting a topic drops them and its records', async () => {
      const { log, admin } = await open()
      await admin.createTopics({ topics: [{ topic: 'o', numPartitions: 2 }] })
      expect(await admin.fetchOffsets({ groupId: 'g', topics: ['o'] })).toEqual([
        {
          topic: 'o',
          partitions: [
            { partition: 0, offset: -1, metadata: null },
            { partition: 1, offset: -1, metadata: null },
          ],
        },
      ])
      await admin.setOffsets({
        groupId: 'g',
        topic: 'o',
        partitions: [{ partition: 0, offset: 5, metadata: 'm' }],
      })
      expect((await admin.fetchOffsets({ groupId: 'g' }))[0]!.partitions[0]).toEqual({
        partition: 0,
        offset: 5,
        metadata: 'm',
      })
      await rejectsWith(
        admin.setOffsets({ groupId: 'g', topic: 'o', partitions: [{ partition: 0, offset: -2 }] }),
        'INVALID_OFFSET',
      )
      await rejectsWith(
        admin.setOffsets({ groupId: 'g', topic: 'o', partitions: [{ partition: 9, offset: 1 }] }),
        'INVALID_PARTITIONS',
      )
      await log.producer().send({ topic: 'o', messages: [{ partition: 0, value: 'old' }] })
      await admin.deleteTopics({ topics: ['o'] })
      await admin.createTopics({ topics: [{ topic: 'o', numPartitions: 2 }] })
      expect(
        (await admin.fetchOffsets({ groupId: 'g', topics: ['o'] }))[0]!.partitions[0]!.offset,
      ).toBe(-1)
      expect(await readAll(log, 'o', 0)).toEqual([])
      await log.close()
    })

    test('a consumer reads from the beginning, follows the tail, seeks back, and resumes from commits', async () => {
      const { log, admin, producer } = await open()
      await admin.createTopics({ topics: [{ topic: 'c', numPartitions: 2 }] })
      await producer.send({
        topic: 'c',
        messages: [
          { partition: 0, value: 1 },
          { partition: 1, value: 2 },
        ],
      })
      const seen: [number, number, unknown][] = []
      const consumer = log.consumer({ groupId: 'readers', maxWaitTimeInMs: 50 })
      await consumer.subscribe({ topics: ['c'], fromBeginning: true })
      let more: () => void = () => undefined
      const enough = (n: number) => new Promise<void>((r) => (more = () => seen.length >= n && r()))
      let waiting = enough(2)
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          seen.push([partition, message.offset, message.value])
          more()
        },
      })
      await waiting
      waiting = enough(3)
      await producer.send({ topic: 'c', messages: [{ partition: 0, value: 3 }] })
      await waiting
      const pa = 0
      expect(seen.filter(([p]) => p === pa).map(([, o, v]) => [o, v])).toEqual([
        [0, 1],
        [1, 3],
      ])
      waiting = enough(5)
      consumer.seek({ topic: 'c', partition: pa, offset: 0 })
      await waiting
      expect(seen.slice(3).map(([p, o]) => [p, o])).toEqual([
        [pa, 0],
        [pa, 1],
      ])
      await consumer.stop()
      const committed = await admin.fetchOffsets({ groupId: 'readers', topics: ['c'] })
      expect(committed[0]!.partitions.find((p) => p.partition === pa)!.offset).toBe(2)
      // A new member of the same group starts after what was committed.
      await producer.send({ topic: 'c', messages: [{ partition: 0, value: 4 }] })
      const next: unknown[] = []
      const resumed = log.consumer({ groupId: 'readers', maxWaitTimeInMs: 50 })
      await resumed.subscribe({ topics: ['c'], fromBeginning: true })
      await new Promise<void>((resolve) =>
        resumed.run({
          eachMessage: async ({ message }) => {
            next.push(message.value)
            resolve()
          },
        }),
      )
      await resumed.stop()
      expect(next).toEqual([4])
      await log.close()
    })
  })
}
