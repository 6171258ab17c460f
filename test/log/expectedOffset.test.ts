import 'fake-indexeddb/auto'
import { describe, expect, test } from 'vitest'
import {
  ConcurrencyError,
  errorFromJSON,
  InvalidArgumentError,
  InvalidRecordError,
  KEY_LOOKUP_OFFSETS,
  memoryStorage,
  openLog,
  type Log,
  type LogStorage,
} from '../../src/index.ts'
import { idbStorage, type IdbStorage } from '../../src/storage/idb/index.ts'

// Optimistic concurrency (expectedOffset / expectedKeyOffset), against both storages: the check
// runs in the append transaction, so it is only as good as each adapter's transactions.

let n = 0
const storages: [
  name: string,
  create: () => Promise<LogStorage>,
  /** A second connection to the same data, as another tab holds (or the same one if shared). */
  another: (s: LogStorage) => Promise<LogStorage>,
][] = [
  ['memory', async () => memoryStorage(), async (s) => s],
  [
    'fake-indexeddb',
    () => idbStorage({ name: `occ-${n++}` }),
    (s) => idbStorage({ name: (s as IdbStorage).db.name }),
  ],
]

const caught = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  )

describe.each(storages)('expected offsets: %s', (_, create, another) => {
  async function fresh(
    config: Record<string, string> = {},
  ): Promise<{ log: Log; storage: LogStorage }> {
    const storage = await create()
    const log = await openLog({ storage, cleaner: false })
    await log.admin().createTopics({
      topics: [
        {
          topic: 't',
          numPartitions: 1,
          configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
        },
      ],
    })
    return { log, storage }
  }

  const contents = async (log: Log) =>
    (await log.fetch<string, string>({ topic: 't', partition: 0, offset: 0 })).records.map(
      (r) => `${r.offset}:${r.key}=${r.value}`,
    )

  test('a send whose expected end offset matches is written; a stale one is refused with the actual', async () => {
    const { log } = await fresh()
    const p = log.producer()
    await p.send({ topic: 't', messages: [{ key: 'a', value: '1', expectedOffset: 0 }] })
    // Each message expects the end offset before it: its own send's earlier messages count.
    const sent = await p.send({
      topic: 't',
      messages: [
        { key: 'a', value: '2', expectedOffset: 1 },
        { key: 'b', value: '3', expectedOffset: 2 },
      ],
    })
    expect(sent[0]!.baseOffset).toBe(1)
    const error = await caught(
      p.send({ topic: 't', messages: [{ key: 'c', value: '4', expectedOffset: 1 }] }),
    )
    expect(error).toBeInstanceOf(ConcurrencyError)
    expect(error).toMatchObject({
      code: 'WRONG_EXPECTED_OFFSET',
      topic: 't',
      partition: 0,
      key: 'c',
      expectation: 'offset',
      expected: 1,
      actual: 3,
    })
    expect((error as Error).message).toMatch(/end offset 1, but it is 3/)
    expect(await contents(log)).toEqual(['0:a=1', '1:a=2', '2:b=3'])
    await log.close()
  })

  test('expectedKeyOffset -1 holds only while the key has no record; then its last offset', async () => {
    const { log } = await fresh()
    const p = log.producer()
    await p.send({ topic: 't', messages: [{ key: 'other', value: 'x' }] })
    await p.send({ topic: 't', messages: [{ key: 'k', value: 'v0', expectedKeyOffset: -1 }] })
    const again = await caught(
      p.send({ topic: 't', messages: [{ key: 'k', value: 'v1', expectedKeyOffset: -1 }] }),
    )
    expect(again).toBeInstanceOf(ConcurrencyError)
    expect(again).toMatchObject({ key: 'k', expectation: 'keyOffset', expected: -1, actual: 1 })
    // Other keys' records do not move a key's offset.
    await p.send({ topic: 't', messages: [{ key: 'other', value: 'y' }] })
    await p.send({ topic: 't', messages: [{ key: 'k', value: 'v1', expectedKeyOffset: 1 }] })
    const stale = await caught(
      p.send({ topic: 't', messages: [{ key: 'k', value: 'v2', expectedKeyOffset: 1 }] }),
    )
    expect(stale).toMatchObject({ expectation: 'keyOffset', expected: 1, actual: 3 })
    // A key never written, expected at some offset: the actual is -1.
    const never = await caught(
      p.send({ topic: 't', messages: [{ key: 'new', value: 'n', expectedKeyOffset: 0 }] }),
    )
    expect(never).toMatchObject({ key: 'new', expected: 0, actual: -1 })
    expect(await contents(log)).toEqual(['0:other=x', '1:k=v0', '2:other=y', '3:k=v1'])
    await log.close()
  })

  test('one refused message refuses its whole send: nothing of it is written, offsets stay', async () => {
    const { log } = await fresh()
    await log.admin().createTopics({ topics: [{ topic: 'u', numPartitions: 2 }] })
    const p = log.producer()
    await p.send({ topic: 't', messages: [{ key: 'a', value: '1' }] })
    const error = await caught(
      p.sendBatch({
        topicMessages: [
          { topic: 'u', messages: [{ key: 'x', value: 'ok', partition: 1 }] },
          {
            topic: 't',
            messages: [
              { key: 'b', value: 'fine', expectedOffset: 1 },
              { key: 'a', value: 'no', expectedKeyOffset: -1 },
            ],
          },
        ],
      }),
    )
    expect(error).toMatchObject({ key: 'a', expected: -1, actual: 0 })
    expect(await log.admin().fetchTopicOffsets('t')).toMatchObject([{ partition: 0, high: 1 }])
    expect(await log.admin().fetchTopicOffsets('u')).toMatchObject([
      { partition: 0, high: 0 },
      { partition: 1, high: 0 },
    ])
    // The same send with the right expectation goes through.
    await p.send({
      topic: 't',
      messages: [
        { key: 'b', value: 'fine', expectedOffset: 1 },
        { key: 'a', value: 'yes', expectedKeyOffset: 0 },
      ],
    })
    expect(await contents(log)).toEqual(['0:a=1', '1:b=fine', '2:a=yes'])
    await log.close()
  })

  test('sends racing with one expectation in one tab (one group commit or several): exactly one wins', async () => {
    const { log } = await fresh()
    const [p, q] = [log.producer(), log.producer()]
    const results = await Promise.allSettled([
      p.send({ topic: 't', messages: [{ key: 'k', value: 'p', expectedKeyOffset: -1 }] }),
      q.send({ topic: 't', messages: [{ key: 'k', value: 'q', expectedKeyOffset: -1 }] }),
      p.send({ topic: 't', messages: [{ key: 'z', value: 'p', expectedOffset: 0 }] }),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected'])
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ actual: 0 })
    // The third expected the end before any of them: the first had moved it to 1.
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({
      expectation: 'offset',
      actual: 1,
    })
    expect(await contents(log)).toEqual(['0:k=p'])
    await log.close()
  })

  test('two logs on one database (two tabs) racing with one expectation: exactly one wins', async () => {
    const { log, storage } = await fresh()
    const other = await openLog({ storage: await another(storage), cleaner: false })
    await log.producer().send({ topic: 't', messages: [{ key: 'k', value: 'start' }] })
    const results = await Promise.allSettled(
      [log, other].map((l, i) =>
        l.producer().send({
          topic: 't',
          messages: [{ key: 'k', value: `tab${i}`, expectedKeyOffset: 0, expectedOffset: 1 }],
        }),
      ),
    )
    const won = results.filter((r) => r.status === 'fulfilled')
    const lost = results.filter((r) => r.status === 'rejected')
    expect(won).toHaveLength(1)
    expect(lost).toHaveLength(1)
    expect(lost[0]!.reason).toBeInstanceOf(ConcurrencyError)
    expect(lost[0]!.reason).toMatchObject({ actual: expect.any(Number) as number })
    expect(await contents(other)).toHaveLength(2)
    expect(await contents(log)).toEqual(await contents(other))
    await other.close()
    await log.close()
  })

  test("a tombstone is the key's last record, also after compaction; once removed the key has none", async () => {
    const { log } = await fresh({
      'cleanup.policy': 'compact',
      'segment.records': '2',
      'delete.retention.ms': '0',
      'min.cleanable.dirty.ratio': '0',
    })
    const p = log.producer()
    await p.send({
      topic: 't',
      messages: [
        { key: 'k', value: '1' },
        { key: 'k', value: '2' },
        { key: 'k', value: null },
        { key: 'x', value: '3' },
      ],
    })
    const refused = await caught(
      p.send({ topic: 't', messages: [{ key: 'k', value: 'back', expectedKeyOffset: -1 }] }),
    )
    expect(refused).toMatchObject({ expected: -1, actual: 2 })
    await log.roll('t')
    await log.cleaner.run({ topics: ['t'], force: true })
    // Compaction removed offsets 0 and 1; the tombstone at 2 remains the key's last record.
    expect(await contents(log)).toEqual(['2:k=null', '3:x=3'])
    await p.send({ topic: 't', messages: [{ key: 'x', value: '4', expectedKeyOffset: 3 }] })
    expect(
      await caught(
        p.send({ topic: 't', messages: [{ key: 'k', value: 'b', expectedKeyOffset: 1 }] }),
      ),
    ).toMatchObject({ expected: 1, actual: 2 })
    // The tombstone survived its first cleaning (delete.retention.ms 0): the next removes it.
    await log.roll('t')
    await log.cleaner.run({ topics: ['t'], force: true })
    expect((await contents(log)).some((r) => r.endsWith(':k=null'))).toBe(false)
    await p.send({ topic: 't', messages: [{ key: 'k', value: 'b', expectedKeyOffset: -1 }] })
    expect((await contents(log)).at(-1)).toBe('5:k=b')
    await log.close()
  })

  test('a key written before many others is still found (the lookup widens its window)', async () => {
    const { log } = await fresh()
    const p = log.producer()
    await p.send({ topic: 't', messages: [{ key: 'early', value: 'e' }] })
    await p.send({
      topic: 't',
      messages: Array.from({ length: 2500 }, (_, i) => ({ key: `k${i}`, value: `${i}` })),
    })
    expect(
      await caught(
        p.send({ topic: 't', messages: [{ key: 'early', value: 'x', expectedKeyOffset: -1 }] }),
      ),
    ).toMatchObject({ expected: -1, actual: 0 })
    await p.send({ topic: 't', messages: [{ key: 'early', value: 'y', expectedKeyOffset: 0 }] })
    expect((await log.admin().fetchTopicOffsets('t'))[0]!.high).toBe(2502)
    await log.close()
  })

  test('the key lookup reads back a bounded window, and says so past it rather than guess', async () => {
    const { log } = await fresh()
    // A follower's offsets may jump: an old record far below the window, a new one inside it.
    // (Two appends: two rows. A row read for the window is read whole, and an old record
    // found in it is as exact an answer as any.)
    await log.appendAsFollower('t', 0, [{ offset: 0, key: 'old', value: '"a"', timestamp: 1 }])
    await log.appendAsFollower('t', 0, [
      { offset: KEY_LOOKUP_OFFSETS + 10, key: 'new', value: '"b"', timestamp: 2 },
    ])
    const p = log.producer()
    const error = await caught(
      p.send({ topic: 't', messages: [{ key: 'old', value: 'x', expectedKeyOffset: 0 }] }),
    )
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect((error as Error).message).toMatch(/cannot check expectedKeyOffset/)
    await p.send({
      topic: 't',
      messages: [{ key: 'new', value: 'y', expectedKeyOffset: KEY_LOOKUP_OFFSETS + 10 }],
    })
    expect(await contents(log)).toHaveLength(3)
    await log.close()
  })

  test('expectations are checked before anything: malformed ones and keyless key expectations', async () => {
    const { log } = await fresh()
    const p = log.producer()
    expect(
      await caught(p.send({ topic: 't', messages: [{ value: 'v', expectedKeyOffset: -1 }] })),
    ).toBeInstanceOf(InvalidRecordError)
    expect(
      await caught(
        p.send({ topic: 't', messages: [{ key: 'k', value: 'v', expectedOffset: -1 }] }),
      ),
    ).toMatchObject({ code: 'INVALID_OFFSET' })
    expect(
      await caught(
        p.send({ topic: 't', messages: [{ key: 'k', value: 'v', expectedKeyOffset: -2 }] }),
      ),
    ).toMatchObject({ code: 'INVALID_OFFSET' })
    expect(await contents(log)).toEqual([])
    await log.close()
  })
})

test('a ConcurrencyError crosses a boundary as its JSON and comes back with its fields', () => {
  const fields = {
    topic: 't',
    partition: 2,
    key: 'k',
    expectation: 'keyOffset',
    expected: 4,
    actual: 7,
  } as const
  const error = ConcurrencyError.of(fields)
  const back = errorFromJSON(JSON.parse(JSON.stringify(error)) as ConcurrencyError)
  expect(back).toBeInstanceOf(ConcurrencyError)
  expect(back).toMatchObject({ name: 'ConcurrencyError', message: error.message, ...fields })
})

test('a routed (synced) topic refuses expectations: the server would have to check them', async () => {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  await log.admin().createTopics({ topics: [{ topic: 's' }, { topic: 's-outbox' }] })
  const p = log.producer({ route: (topic) => (topic === 's' ? 's-outbox' : topic) })
  const error = await caught(
    p.send({ topic: 's', messages: [{ key: 'k', value: 'v', expectedOffset: 0 }] }),
  )
  expect(error).toBeInstanceOf(InvalidArgumentError)
  expect((error as Error).message).toMatch(/not supported on synced topics yet/)
  expect(await log.admin().fetchTopicOffsets('s-outbox')).toMatchObject([{ high: 0 }])
  await log.close()
})
