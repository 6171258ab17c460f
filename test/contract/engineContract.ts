import { describe, expect, test } from 'vitest'
import { formatOffset, type ReadFrom } from '../../src/protocol/index.ts'
import {
  TopicAdmin,
  type AppendOutcome,
  type AppendRequest,
  type CreateRequest,
  type Engine,
  type ProducerHeaders,
  type ReadOutcome,
  type StoredRecord,
} from '../../src/server/index.ts'

/**
 * The contract every Engine passes (one suite, many backends, as hono's runTest({ newRouter })
 * and test/contract/logContract.ts): the Durable Streams operations as the outcomes the HTTP layer
 * maps to statuses, and topics through TopicAdmin over the engine's TopicStore. The HTTP mapping
 * is the same code for every engine and is tested once (test/server/topics.test.ts, hostileInput,
 * and the Durable Streams conformance suite over each backend).
 *
 * Section numbers are those of the Durable Streams protocol (PROTOCOL.md in
 * durable-streams/durable-streams): §4.1 Stream Closure, §4.2 Stream forking, §5.1 Create,
 * §5.2 Append, §5.2.1 Idempotent Producers, the catch-up and long-poll reads, JSON mode.
 */
export interface OpenedEngine {
  engine: Engine
  /** Closes the engine and lets go of what it stored. */
  close(): Promise<void>
  /**
   * For durable engines: closes this engine (not its data) and opens the same data again, on the
   * same clock. The reopened engine is closed with its own `close`.
   */
  reopen?(): Promise<OpenedEngine>
}

export interface EngineFactory {
  /** Opens a new engine over new, empty storage, reading time from `now`. */
  open(now: () => number): Promise<OpenedEngine>
  /** What it acknowledged outlives the engine: `reopen` is given, and the durability tests run. */
  durable: boolean
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const json = 'application/json'
const start: ReadFrom = { kind: 'start' }
const at = (offset: number): ReadFrom => ({ kind: 'offset', offset })

const createRequest = (path: string, patch: Partial<CreateRequest> = {}): CreateRequest => ({
  path,
  contentType: json,
  ttlSeconds: undefined,
  expiresAt: undefined,
  closed: false,
  body: new Uint8Array(),
  fork: undefined,
  ...patch,
})

const appendRequest = (
  path: string,
  body: string,
  patch: Partial<AppendRequest> = {},
): AppendRequest => ({
  path,
  contentType: json,
  body: encoder.encode(body),
  streamSeq: undefined,
  producer: undefined,
  close: false,
  ...patch,
})

const producer = (id: string, epoch: number, seq: number): ProducerHeaders => ({ id, epoch, seq })

const valueOf = (r: StoredRecord): unknown => JSON.parse(decoder.decode(r.data))

/** The outcome, narrowed to `kind`; fails the test with the actual outcome otherwise. */
function expectKind<O extends { kind: string }, K extends O['kind']>(
  outcome: O,
  kind: K,
): Extract<O, { kind: K }> {
  expect(outcome.kind, JSON.stringify(outcome)).toBe(kind)
  return outcome as Extract<O, { kind: K }>
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code })
}

export function engineContract(name: string, factory: EngineFactory): void {
  describe(`Engine contract: ${name}`, () => {
    /** A fresh engine on a settable clock for `body`, closed after it (whatever it threw). */
    async function withEngine(
      body: (ctx: {
        engine: Engine
        admin: TopicAdmin
        clock: { now: number }
        opened: OpenedEngine
        /** Reopens the engine's data (durable engines only); later calls see the new engine. */
        reopen(): Promise<void>
      }) => Promise<void>,
    ): Promise<void> {
      const clock = { now: Date.UTC(2030, 0, 1) }
      let opened = await factory.open(() => clock.now)
      const ctx = {
        engine: opened.engine,
        admin: new TopicAdmin(opened.engine),
        clock,
        opened,
        async reopen() {
          if (!opened.reopen) throw new Error(`${name} cannot reopen`)
          opened = await opened.reopen()
          ctx.engine = opened.engine
          ctx.admin = new TopicAdmin(opened.engine)
          ctx.opened = opened
        },
      }
      try {
        await body(ctx)
      } finally {
        await opened.close()
      }
    }

    const create = async (engine: Engine, path: string, patch: Partial<CreateRequest> = {}) =>
      expectKind(await engine.createStream(createRequest(path, patch)), 'created').stream

    const append = async (
      engine: Engine,
      path: string,
      body: string,
      patch: Partial<AppendRequest> = {},
    ): Promise<AppendOutcome> => engine.append(appendRequest(path, body, patch))

    const tail = async (engine: Engine, path: string): Promise<number> =>
      expectKind(await engine.head(path), 'ok').stream.nextOffset

    /** Every record from `from` to the tail, read in chunks of `maxBytes` (each read at least one). */
    async function readAll(
      engine: Engine,
      path: string,
      from: ReadFrom = start,
      maxBytes?: number,
    ): Promise<{ records: StoredRecord[]; reads: number }> {
      const records: StoredRecord[] = []
      let reads = 0
      for (let next = from; ;) {
        const read = expectKind(await engine.read(path, next, maxBytes), 'ok')
        reads++
        records.push(...read.records)
        if (read.upToDate) return { records, reads }
        expect(read.records.length).toBeGreaterThan(0)
        next = at(read.nextOffset)
      }
    }

    const values = async (engine: Engine, path: string, from: ReadFrom = start) =>
      (await readAll(engine, path, from)).records.map(valueOf)

    const compact = { name: 'cleanup.policy', value: 'compact' }
    /**
     * A topic partition's read as [offset, key, value], from the stored record (the HTTP read's
     * body). Not from StoredRecord.key: JetStream's reads leave it null (only its cleaner parses
     * keys), the embedded engine's carry it; nothing outside the cleaners reads it.
     */
    const keyedRecords = (records: readonly StoredRecord[]) =>
      records.map((r) => {
        const { key, value } = valueOf(r) as { key: string | null; value: unknown }
        return [r.offset, key, value]
      })
    const keyed = (read: ReadOutcome) => keyedRecords(expectKind(read, 'ok').records)
    const appendRecords = async (engine: Engine, path: string, messages: unknown[]) =>
      append(engine, path, JSON.stringify(messages))

    describe('streams: create, head, append, read, delete', () => {
      test('a new stream is empty at offset 0 with its content type; unknown paths are not found', () =>
        withEngine(async ({ engine }) => {
          const created = await create(engine, '/s')
          expect(created).toMatchObject({
            path: '/s',
            contentType: json,
            nextOffset: 0,
            startOffset: 0,
            closed: false,
            topic: null,
          })
          const head = expectKind(await engine.head('/s'), 'ok')
          expect(head.stream).toMatchObject({ id: created.id, nextOffset: 0, contentType: json })
          expect(await engine.head('/missing')).toEqual({ kind: 'notFound' })
          expect(await engine.read('/missing', start)).toEqual({ kind: 'notFound' })
          expect(await append(engine, '/missing', '[1]')).toEqual({ kind: 'notFound' })
          expect(await engine.delete('/missing')).toEqual({ kind: 'notFound' })
        }))

      test('creating again is "exists" with the same configuration, "conflict" with another (§5.1)', () =>
        withEngine(async ({ engine }) => {
          const first = await create(engine, '/s', { ttlSeconds: 60 })
          const again = expectKind(
            await engine.createStream(
              createRequest('/s', {
                ttlSeconds: 60,
                contentType: 'Application/JSON; charset=utf-8',
              }),
            ),
            'exists',
          )
          expect(again.stream.id).toBe(first.id)
          for (const patch of [
            { contentType: 'text/plain' },
            { ttlSeconds: 61 },
            { ttlSeconds: undefined },
            { closed: true },
          ] satisfies Partial<CreateRequest>[]) {
            const outcome = await engine.createStream(
              createRequest('/s', { ttlSeconds: 60, ...patch }),
            )
            expect(outcome.kind, JSON.stringify(patch)).toBe('conflict')
          }
          expect(expectKind(await engine.head('/s'), 'ok').stream).toMatchObject({
            id: first.id,
            contentType: json,
            ttlSeconds: 60,
            closed: false,
          })
        }))

      test('an initial body is the first append: a JSON array is flattened one level', () =>
        withEngine(async ({ engine }) => {
          const created = await create(engine, '/s', { body: encoder.encode('[1,[2,3],{"a":4}]') })
          expect(created.nextOffset).toBe(3)
          const { records } = await readAll(engine, '/s')
          expect(records.map(valueOf)).toEqual([1, [2, 3], { a: 4 }])
          expect(records.map((r) => [r.offset, r.batchStart])).toEqual([
            [0, true],
            [1, false],
            [2, false],
          ])
          // A body that is not JSON creates nothing.
          const bad = await engine.createStream(
            createRequest('/bad', { body: encoder.encode('{oops') }),
          )
          expect(bad.kind).toBe('badRequest')
          expect(await engine.head('/bad')).toEqual({ kind: 'notFound' })
        }))

      test('appends take consecutive offsets; reads from any offset, from "now", and past the tail', () =>
        withEngine(async ({ engine }) => {
          await create(engine, '/s')
          const first = expectKind(await append(engine, '/s', '[1,2]'), 'appended')
          expect(first.stream.nextOffset).toBe(2)
          expect(first.producer).toBeUndefined()
          const second = expectKind(await append(engine, '/s', '3'), 'appended')
          expect(second.stream.nextOffset).toBe(3)
          expect(await tail(engine, '/s')).toBe(3)

          const all = expectKind(await engine.read('/s', start), 'ok')
          expect(all.records.map((r) => [r.offset, valueOf(r), r.batchStart])).toEqual([
            [0, 1, true],
            [1, 2, false],
            [2, 3, true],
          ])
          expect([all.nextOffset, all.upToDate]).toEqual([3, true])
          const from1 = expectKind(await engine.read('/s', at(1)), 'ok')
          expect(from1.records.map(valueOf)).toEqual([2, 3])
          // "now" and the tail itself: nothing, up to date, at the tail.
          for (const from of [{ kind: 'now' } as const, at(3)]) {
            const read = expectKind(await engine.read('/s', from), 'ok')
            expect([read.records, read.nextOffset, read.upToDate]).toEqual([[], 3, true])
          }
          // Past the tail: nothing, and the next offset is the one asked for, never below it
          // (a long-poll from there waits for it rather than answer from below).
          const ahead = expectKind(await engine.read('/s', at(7)), 'ok')
          expect([ahead.records, ahead.nextOffset, ahead.upToDate]).toEqual([[], 7, true])
        }))

      test('a read stops once it holds maxBytes, returns at least one record, and reading on gets the rest once', () =>
        withEngine(async ({ engine }) => {
          await create(engine, '/s')
          const words = ['aaaaaaaa', 'bbbbbbbb', 'cccccccc', 'dddddddd', 'eeeeeeee']
          await append(engine, '/s', JSON.stringify(words)) // 10 bytes a record
          // 20 bytes are under 25: the third record is taken, and the read stops at 30.
          const part = expectKind(await engine.read('/s', start, 25), 'ok')
          expect(part.records.map(valueOf)).toEqual(words.slice(0, 3))
          expect([part.nextOffset, part.upToDate]).toEqual([3, false])
          const exact = expectKind(await engine.read('/s', at(1), 20), 'ok')
          expect([exact.records.map(valueOf), exact.nextOffset]).toEqual([words.slice(1, 3), 3])
          const one = expectKind(await engine.read('/s', at(4), 1), 'ok')
          expect([one.records.map(valueOf), one.nextOffset, one.upToDate]).toEqual([
            ['eeeeeeee'],
            5,
            true,
          ])
          const chunked = await readAll(engine, '/s', start, 25)
          expect(chunked.records.map(valueOf)).toEqual(words)
          expect(chunked.reads).toBe(2)
          // A byte stream's append is one record of its bytes.
          await create(engine, '/bytes', { contentType: 'application/octet-stream' })
          await append(engine, '/bytes', 'hello ', { contentType: 'application/octet-stream' })
          await append(engine, '/bytes', 'world', { contentType: 'application/octet-stream' })
          const bytes = (await readAll(engine, '/bytes')).records
          expect(bytes.map((r) => decoder.decode(r.data))).toEqual(['hello ', 'world'])
        }))

      test('an append of another content type, bad JSON or an empty JSON array writes nothing', () =>
        withEngine(async ({ engine }) => {
          await create(engine, '/s', { body: encoder.encode('[0]') })
          expect(await append(engine, '/s', 'x', { contentType: 'text/plain' })).toEqual({
            kind: 'contentTypeMismatch',
            expected: json,
          })
          for (const body of ['{"a":', '[]', '[1,]', '1 2']) {
            expect((await append(engine, '/s', body)).kind, body).toBe('badRequest')
          }
          expect(await values(engine, '/s')).toEqual([0])
        }))

      test('Stream-Seq must grow byte-wise: a repeat or regression is a conflict that writes nothing (§5.2)', () =>
        withEngine(async ({ engine }) => {
          await create(engine, '/s')
          for (const seq of ['a', 'b', 'b1']) {
            expect((await append(engine, '/s', `"${seq}"`, { streamSeq: seq })).kind).toBe(
              'appended',
            )
          }
          for (const seq of ['b1', 'b', 'B']) {
            expect(await append(engine, '/s', '"no"', { streamSeq: seq })).toEqual({
              kind: 'streamSeqConflict',
              last: 'b1',
            })
          }
          expect(expectKind(await engine.head('/s'), 'ok').stream.lastStreamSeq).toBe('b1')
          expect(await values(engine, '/s')).toEqual(['a', 'b', 'b1'])
          // Byte-wise, not numeric: "10" sorts before "9".
          await create(engine, '/n')
          expect((await append(engine, '/n', '9', { streamSeq: '9' })).kind).toBe('appended')
          expect(await append(engine, '/n', '10', { streamSeq: '10' })).toEqual({
            kind: 'streamSeqConflict',
            last: '9',
          })
          expect(await values(engine, '/n')).toEqual([9])
        }))

      test('a deleted stream is not found by any operation; created again at its path it is a new stream', () =>
        withEngine(async ({ engine }) => {
          const old = await create(engine, '/s', { body: encoder.encode('[1,2]') })
          expect(await engine.delete('/s')).toEqual({ kind: 'deleted' })
          expect(await engine.head('/s')).toEqual({ kind: 'notFound' })
          expect(await engine.read('/s', start)).toEqual({ kind: 'notFound' })
          expect(await append(engine, '/s', '[3]')).toEqual({ kind: 'notFound' })
          expect(await engine.delete('/s')).toEqual({ kind: 'notFound' })
          const again = await create(engine, '/s')
          expect(again.id).not.toBe(old.id)
          expect(again.nextOffset).toBe(0)
          expect(await values(engine, '/s')).toEqual([])
        }))
    })

    describe('idempotent producers (PROTOCOL.md §5.2.1, Kafka KIP-98)', () => {
      test("a producer's seqs are taken in order and echoed; a retry is a duplicate that writes nothing", () =>
        withEngine(async ({ engine }) => {
          await create(engine, '/s')
          const first = expectKind(
            await append(engine, '/s', '[1]', { producer: producer('p', 0, 0) }),
            'appended',
          )
          expect(first.producer).toEqual(producer('p', 0, 0))
          expectKind(
            await append(engine, '/s', '[2]', { producer: producer('p', 0, 1) }),
            'appended',
          )
          // seq <= lastSeq within the epoch: a duplicate, answered with the highest seq taken.
          for (const seq of [1, 0]) {
            const retry = expectKind(
              await append(engine, '/s', '[2]', { producer: producer('p', 0, seq) }),
              'duplicate',
            )
            expect([retry.epoch, retry.lastSeq, retry.stream.nextOffset]).toEqual([0, 1, 2])
          }
          expect(await values(engine, '/s')).toEqual([1, 2])
        }))

      test('a sequence gap is refused with the seq expected and received, and writes nothing', () =>
        withEngine(async ({ engine }) => {
          await create(engine, '/s')
          // A producer the stream has not seen must start at seq 0.
          expect(await append(engine, '/s', '[1]', { producer: producer('p', 0, 1) })).toEqual({
            kind: 'sequenceGap',
            expected: 0,
            received: 1,
          })
          expectKind(
            await append(engine, '/s', '[1]', { producer: producer('p', 0, 0) }),
            'appended',
          )
          expect(await append(engine, '/s', '[3]', { producer: producer('p', 0, 2) })).toEqual({
            kind: 'sequenceGap',
            expected: 1,
            received: 2,
          })
          expectKind(
            await append(engine, '/s', '[2]', { producer: producer('p', 0, 1) }),
            'appended',
          )
          expect(await values(engine, '/s')).toEqual([1, 2])
        }))

      test('a higher epoch fences the old one (zombie fencing); a new epoch starts at seq 0', () =>
        withEngine(async ({ engine }) => {
          await create(engine, '/s')
          for (const seq of [0, 1]) {
            await append(engine, '/s', `[${seq}]`, { producer: producer('p', 0, seq) })
          }
          expect(await append(engine, '/s', '["x"]', { producer: producer('p', 1, 1) })).toEqual({
            kind: 'invalidEpochSeq',
          })
          const restarted = expectKind(
            await append(engine, '/s', '["e1"]', { producer: producer('p', 1, 0) }),
            'appended',
          )
          expect(restarted.producer).toEqual(producer('p', 1, 0))
          // The zombie of epoch 0, whatever its seq, is refused with the current epoch.
          for (const seq of [1, 2]) {
            expect(
              await append(engine, '/s', '["zombie"]', { producer: producer('p', 0, seq) }),
            ).toEqual({ kind: 'staleEpoch', currentEpoch: 1 })
          }
          expectKind(
            await append(engine, '/s', '["e1.1"]', { producer: producer('p', 1, 1) }),
            'appended',
          )
          // Epochs may jump, as long as the new one starts at 0.
          expectKind(
            await append(engine, '/s', '["e5"]', { producer: producer('p', 5, 0) }),
            'appended',
          )
          expect(await values(engine, '/s')).toEqual([0, 1, 'e1', 'e1.1', 'e5'])
        }))

      test('producer state is per stream and per producer id, and goes with its stream', () =>
        withEngine(async ({ engine }) => {
          await create(engine, '/a')
          await create(engine, '/b')
          for (const seq of [0, 1]) {
            await append(engine, '/a', `[${seq}]`, { producer: producer('p', 0, seq) })
          }
          // Another stream, another producer id: each starts afresh at seq 0.
          expectKind(
            await append(engine, '/b', '[0]', { producer: producer('p', 0, 0) }),
            'appended',
          )
          expectKind(
            await append(engine, '/a', '["q"]', { producer: producer('q', 0, 0) }),
            'appended',
          )
          expectKind(
            await append(engine, '/a', '[1]', { producer: producer('p', 0, 1) }),
            'duplicate',
          )
          // A stream created again at a path knows none of the old one's producers.
          await engine.delete('/a')
          await create(engine, '/a')
          expectKind(
            await append(engine, '/a', '[0]', { producer: producer('p', 0, 0) }),
            'appended',
          )
          expect(await values(engine, '/a')).toEqual([0])
        }))

      test('concurrent appends: pipelined seqs land in order, racing writers get dense offsets, each once', () =>
        withEngine(async ({ engine }) => {
          // Servers MUST serialise validation and append per (stream, producer) (§5.2.1): seqs
          // submitted in order, before any is answered, are all taken, none seen as a gap.
          await create(engine, '/pipe')
          const pipelined = await Promise.all(
            Array.from({ length: 10 }, (_, seq) =>
              append(engine, '/pipe', `[${seq}]`, { producer: producer('p', 0, seq) }),
            ),
          )
          expect(pipelined.map((o) => o.kind)).toEqual(Array(10).fill('appended'))
          expect(await values(engine, '/pipe')).toEqual([...Array(10).keys()])

          await create(engine, '/race')
          const racing = await Promise.all(
            Array.from({ length: 24 }, (_, n) =>
              append(engine, '/race', JSON.stringify([n, n]), {
                ...(n % 2 === 0 && { producer: producer(`w${n % 3}`, 0, Math.floor(n / 6)) }),
              }),
            ),
          )
          // Each batch of two ends at its own offset: 2, 4, ... 48, and reads back whole.
          const ends = racing.map((o) => {
            const ok = o as Extract<AppendOutcome, { kind: 'appended' | 'duplicate' }>
            return [o.kind, ok.stream.nextOffset] as const
          })
          expect(ends.filter(([kind]) => kind !== 'appended')).toEqual([])
          expect(ends.map(([, end]) => end).sort((a, b) => a - b)).toEqual(
            Array.from({ length: 24 }, (_, i) => 2 * (i + 1)),
          )
          const read = (await values(engine, '/race')) as number[]
          for (let i = 0; i < 48; i += 2) expect(read[i]).toBe(read[i + 1])
          expect(new Set(read).size).toBe(24)
        }))
    })

    describe('closed streams (PROTOCOL.md §4.1)', () => {
      test('an append with close writes its data and closes: later appends are refused, data stays readable', () =>
        withEngine(async ({ engine }) => {
          await create(engine, '/s', { body: encoder.encode('[0]') })
          const closing = expectKind(await append(engine, '/s', '[1]', { close: true }), 'appended')
          expect(closing.stream).toMatchObject({ closed: true, nextOffset: 2 })
          expect(expectKind(await engine.head('/s'), 'ok').stream.closed).toBe(true)
          const refused = expectKind(await append(engine, '/s', '[2]'), 'streamClosed')
          expect(refused.stream.nextOffset).toBe(2)
          expectKind(
            await append(engine, '/s', '[2]', { producer: producer('p', 0, 0) }),
            'streamClosed',
          )
          const read = expectKind(await engine.read('/s', start), 'ok')
          expect([read.records.map(valueOf), read.stream.closed]).toEqual([[0, 1], true])
        }))

      test('a close without data is "closed", and closing again is idempotent', () =>
        withEngine(async ({ engine }) => {
          await create(engine, '/s', { body: encoder.encode('[0]') })
          for (let i = 0; i < 2; i++) {
            const closed = expectKind(await append(engine, '/s', '', { close: true }), 'closed')
            expect(closed.stream).toMatchObject({ closed: true, nextOffset: 1 })
          }
          expect(await values(engine, '/s')).toEqual([0])
        }))

      test("the closing producer's retry is a duplicate; any other producer's append or close is refused", () =>
        withEngine(async ({ engine }) => {
          await create(engine, '/s')
          const p = producer('p', 0, 0)
          expectKind(await append(engine, '/s', '[1]', { producer: p, close: true }), 'appended')
          const retry = expectKind(
            await append(engine, '/s', '[1]', { producer: p, close: true }),
            'duplicate',
          )
          expect([retry.epoch, retry.lastSeq]).toEqual([0, 0])
          for (const other of [producer('p', 0, 1), producer('q', 0, 0)]) {
            expectKind(
              await append(engine, '/s', '', { producer: other, close: true }),
              'streamClosed',
            )
            expectKind(await append(engine, '/s', '[2]', { producer: other }), 'streamClosed')
          }
          expect(await values(engine, '/s')).toEqual([1])
        }))

      test('a stream created closed takes no appends; its initial body is readable', () =>
        withEngine(async ({ engine }) => {
          const created = await create(engine, '/s', { closed: true, body: encoder.encode('[1]') })
          expect(created).toMatchObject({ closed: true, nextOffset: 1 })
          expectKind(await append(engine, '/s', '[2]'), 'streamClosed')
          expect(await values(engine, '/s')).toEqual([1])
        }))
    })

    describe('TTL and expiry', () => {
      test('a stream idle for its TTL is gone; reads and appends renew it, heads do not', () =>
        withEngine(async ({ engine, clock }) => {
          await create(engine, '/s', { ttlSeconds: 10 })
          clock.now += 9_000
          expectKind(await engine.read('/s', start), 'ok')
          clock.now += 9_000
          expectKind(await append(engine, '/s', '[1]'), 'appended')
          clock.now += 9_000
          expectKind(await engine.head('/s'), 'ok')
          clock.now += 1_000 // 10 s since the append; the head did not count
          expect(await engine.head('/s')).toEqual({ kind: 'notFound' })
          expect(await engine.read('/s', start)).toEqual({ kind: 'notFound' })
          expect(await append(engine, '/s', '[2]')).toEqual({ kind: 'notFound' })
          expect((await create(engine, '/s')).nextOffset).toBe(0)
        }))

      test('a stream past its Expires-At is gone, however recently it was used', () =>
        withEngine(async ({ engine, clock }) => {
          await create(engine, '/s', { expiresAt: new Date(clock.now + 5_000).toISOString() })
          clock.now += 4_999
          expectKind(await append(engine, '/s', '[1]'), 'appended')
          clock.now += 1
          expect(await engine.head('/s')).toEqual({ kind: 'notFound' })
          expect(await engine.read('/s', start)).toEqual({ kind: 'notFound' })
          expect(await append(engine, '/s', '[2]')).toEqual({ kind: 'notFound' })
        }))
    })

    describe('forks (PROTOCOL.md §4.2)', () => {
      const fork = (from: string, offset?: number, subOffset = 0): Partial<CreateRequest> => ({
        contentType: undefined,
        fork: { from, offset: offset === undefined ? undefined : formatOffset(offset), subOffset },
      })

      test('a fork reads its source below the fork offset, then its own appends; each goes on alone', () =>
        withEngine(async ({ engine }) => {
          await create(engine, '/src', { body: encoder.encode('[1,2,3]') })
          const forked = await create(engine, '/f', fork('/src', 2))
          expect(forked).toMatchObject({ nextOffset: 2, contentType: json })
          expectKind(await append(engine, '/f', '[9]'), 'appended')
          expectKind(await append(engine, '/src', '[4]'), 'appended')
          expect(await values(engine, '/f')).toEqual([1, 2, 9])
          expect(await values(engine, '/f', at(1))).toEqual([2, 9])
          expect(await values(engine, '/src')).toEqual([1, 2, 3, 4])
          // Without an offset, at the source's tail; with a sub-offset, into the append there.
          expect((await create(engine, '/f-tail', fork('/src'))).nextOffset).toBe(4)
          await append(engine, '/src', '[5,6,7]')
          expect((await create(engine, '/f-sub', fork('/src', 4, 2))).nextOffset).toBe(6)
          expect(await values(engine, '/f-sub')).toEqual([1, 2, 3, 4, 5, 6])
        }))

      test('a fork of nothing, past the tail, or of another content type is refused, creating nothing', () =>
        withEngine(async ({ engine }) => {
          await create(engine, '/src', { body: encoder.encode('[1]') })
          expect((await engine.createStream(createRequest('/f', fork('/none')))).kind).toBe(
            'sourceNotFound',
          )
          expect((await engine.createStream(createRequest('/f', fork('/src', 2)))).kind).toBe(
            'badRequest',
          )
          const typed = { ...fork('/src', 0), contentType: 'text/plain' }
          expect((await engine.createStream(createRequest('/f', typed))).kind).toBe('conflict')
          expect(await engine.head('/f')).toEqual({ kind: 'notFound' })
        }))

      test('a deleted source with forks is gone at its path, still read through them, and goes with the last', () =>
        withEngine(async ({ engine }) => {
          await create(engine, '/src', { body: encoder.encode('[1,2]') })
          await create(engine, '/f', fork('/src'))
          expect(await engine.delete('/src')).toEqual({ kind: 'deleted' })
          expect(await engine.head('/src')).toEqual({ kind: 'gone' })
          expect(await engine.read('/src', start)).toEqual({ kind: 'gone' })
          expect(await append(engine, '/src', '[3]')).toEqual({ kind: 'gone' })
          expect(await engine.delete('/src')).toEqual({ kind: 'gone' })
          expect((await engine.createStream(createRequest('/src'))).kind).toBe('conflict')
          expect(await values(engine, '/f')).toEqual([1, 2])
          expect(await engine.delete('/f')).toEqual({ kind: 'deleted' })
          expect(await engine.head('/src')).toEqual({ kind: 'notFound' })
          expect((await create(engine, '/src')).nextOffset).toBe(0)
        }))
    })

    describe('live reads: waitForChange', () => {
      test('an append, a close and a delete each wake a waiting reader; changes to other streams do not', () =>
        withEngine(async ({ engine }) => {
          const { id } = await create(engine, '/s')
          const other = await create(engine, '/other')
          const parked = async (change: () => Promise<unknown>) => {
            const wait = engine.waitForChange(id, 20_000)
            await change()
            return wait
          }
          const unrelated = engine.waitForChange(id, 300)
          await append(engine, '/other', '[1]')
          await engine.delete('/other')
          expect(await unrelated).toBe('timeout')
          expect(other.id).not.toBe(id)
          expect(await parked(() => append(engine, '/s', '[1]'))).toBe('changed')
          expect(await parked(() => append(engine, '/s', '', { close: true }))).toBe('changed')
          expect(await parked(async () => engine.delete('/s'))).toBe('changed')
        }))

      test('a wait ends on its timeout or its signal; closeLiveReads ends every wait, now and later', () =>
        withEngine(async ({ engine }) => {
          const { id } = await create(engine, '/s')
          expect(await engine.waitForChange(id, 20)).toBe('timeout')
          const controller = new AbortController()
          const aborted = engine.waitForChange(id, 20_000, controller.signal)
          controller.abort()
          expect(await aborted).toBe('aborted')
          expect(await engine.waitForChange(id, 20_000, controller.signal)).toBe('aborted')
          expect(engine.parkedReads).toBe(0)
          const waits = [engine.waitForChange(id, 20_000), engine.waitForChange(id + 1, 20_000)]
          expect(engine.parkedReads).toBe(2)
          engine.closeLiveReads()
          expect(await Promise.all(waits)).toEqual(['aborted', 'aborted'])
          expect(engine.parkedReads).toBe(0)
          expect(await engine.waitForChange(id, 20_000)).toBe('aborted')
        }))
    })

    describe('topics (TopicAdmin over the engine)', () => {
      test('a topic is N JSON partition streams, described with Kafka config names and listed', () =>
        withEngine(async ({ engine, admin }) => {
          const created = await admin.createTopic('orders', {
            numPartitions: 3,
            configEntries: [compact],
          })
          const described = await admin.describeTopic('orders')
          expect(described).toEqual(created)
          expect(described).toMatchObject({
            topic: 'orders',
            numPartitions: 3,
            config: { 'cleanup.policy': 'compact' },
          })
          expect(described.partitions).toEqual(
            [0, 1, 2].map((partition) => ({
              partition,
              path: `/topics/orders/${partition}`,
              startOffset: 0,
              nextOffset: 0,
              start: formatOffset(0),
              next: formatOffset(0),
            })),
          )
          const partition = expectKind(await engine.head('/topics/orders/2'), 'ok').stream
          expect(partition.contentType).toBe(json)
          expect(partition.topic).not.toBeNull()
          expect(await admin.listTopics()).toEqual(['orders'])
        }))

      test('refuses an existing topic, bad configs, bad names and bad partition counts, creating nothing', () =>
        withEngine(async ({ admin }) => {
          await admin.createTopic('t', {})
          await expectCode(admin.createTopic('t', {}), 'TOPIC_ALREADY_EXISTS')
          await expectCode(admin.createTopic('t', { numPartitions: 4 }), 'TOPIC_ALREADY_EXISTS')
          await expectCode(
            admin.createTopic('u', { configEntries: [{ name: 'retention.ms', value: 'x' }] }),
            'INVALID_CONFIG',
          )
          await expectCode(
            admin.createTopic('u', { configEntries: [{ name: 'nope', value: '1' }] }),
            'INVALID_CONFIG',
          )
          await expectCode(admin.createTopic('b c', {}), 'INVALID_ARGUMENT')
          await expectCode(admin.createTopic('v', { numPartitions: 0 }), 'INVALID_PARTITIONS')
          expect(await admin.listTopics()).toEqual(['t'])
          expect((await admin.describeTopic('t')).numPartitions).toBe(1)
        }))

      // TopicStore.createPartitions: a plain stream at a partition's path is someone's data, not
      // a leftover of another incarnation of the topic; the creation is refused and leaves it.
      test('a topic is not created over a plain stream at its partition path', () =>
        withEngine(async ({ engine, admin }) => {
          await create(engine, '/topics/x/0', { body: new TextEncoder().encode('[1]') })
          await expectCode(admin.createTopic('x', {}), 'TOPIC_ALREADY_EXISTS')
          expect(await admin.listTopics()).toEqual([])
          expect(await engine.head('/topics/x/0')).toMatchObject({
            kind: 'ok',
            stream: { topic: null },
          })
        }))

      test('deleting a topic deletes its partitions; created again it is a new, empty topic', () =>
        withEngine(async ({ engine, admin }) => {
          const first = await admin.createTopic('gone', { numPartitions: 2 })
          await appendRecords(engine, '/topics/gone/1', [{ key: 'a', value: 1 }])
          await admin.deleteTopic('gone')
          await expectCode(admin.describeTopic('gone'), 'UNKNOWN_TOPIC_OR_PARTITION')
          expect(await engine.head('/topics/gone/1')).toEqual({ kind: 'notFound' })
          expect(await engine.read('/topics/gone/1', start)).toEqual({ kind: 'notFound' })
          expect(await appendRecords(engine, '/topics/gone/1', [{ value: 1 }])).toEqual({
            kind: 'notFound',
          })
          await expectCode(admin.deleteTopic('gone'), 'UNKNOWN_TOPIC_OR_PARTITION')
          await expectCode(admin.cleanTopic('gone'), 'UNKNOWN_TOPIC_OR_PARTITION')
          expect(await admin.listTopics()).toEqual([])
          const second = await admin.createTopic('gone', { numPartitions: 2 })
          expect(second.id).not.toBe(first.id)
          expect(await engine.read('/topics/gone/1', start)).toMatchObject({ records: [] })
        }))

      test('a clean or a creation racing a deletion ends as if one came first, and never otherwise fails', () =>
        withEngine(async ({ admin }) => {
          const unknownTopic = (error: unknown) => {
            expect(error).toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' })
            return 'unknown'
          }
          for (let round = 0; round < 5; round++) {
            const topic = `race-${round}`
            await admin.createTopic(topic, { numPartitions: 8 })
            const [cleaned] = await Promise.all([
              admin.cleanTopic(topic).catch(unknownTopic),
              admin.deleteTopic(topic),
            ])
            if (cleaned !== 'unknown') expect(cleaned).toHaveLength(8)
            const [created] = await Promise.all([
              admin.createTopic(topic, { numPartitions: 3 }),
              admin.deleteTopic(topic).catch(unknownTopic),
            ])
            // The creation succeeded whatever the deletion did after it: its answer says so.
            expect(created.partitions).toHaveLength(3)
          }
        }))

      test('a topic partition cannot be forked into a plain stream', () =>
        withEngine(async ({ engine, admin }) => {
          await admin.createTopic('src', {})
          const outcome = await engine.createStream(
            createRequest('/forks/src', {
              contentType: undefined,
              fork: { from: '/topics/src/0', offset: undefined, subOffset: 0 },
            }),
          )
          expect(outcome.kind).toBe('badRequest')
          expect(await engine.head('/forks/src')).toEqual({ kind: 'notFound' })
        }))

      test('topic records are { key, value, headers } with a timestamp; anything else is refused whole', () =>
        withEngine(async ({ engine, admin, clock }) => {
          await admin.createTopic('shape', {})
          const p = '/topics/shape/0'
          for (const bad of [
            [1],
            ['x'],
            [{ key: 1, value: 1 }],
            [{ key: 'a', offset: 7 }],
            [{ headers: { a: 1 } }],
            [{ key: 'k', value: 1, timestamp: -1 }],
            // Lone surrogates: no UTF-8 form, so two such keys would compact as one.
            [{ key: '\ud800', value: 1 }],
            [{ key: 'a\udc00', value: 1 }],
            // Stamped over an hour ahead (message.timestamp.after.max.ms): it would hold
            // compaction and retention back behind it.
            [{ key: 'k', value: 1, timestamp: clock.now + 3_600_001 }],
            // One bad record refuses the batch.
            [{ key: 'ok', value: 1 }, 2],
          ]) {
            const outcome = expectKind(await appendRecords(engine, p, bad), 'badRequest')
            expect(outcome.tooLarge, JSON.stringify(bad)).toBeFalsy()
          }
          expect(expectKind(await engine.read(p, start), 'ok').records).toEqual([])
          const stamped = clock.now - 60_000
          await appendRecords(engine, p, [
            { key: 'k', value: { amount: 3.5 }, headers: { h: 'v' } },
            {},
            { key: 'old', value: 1, timestamp: stamped },
          ])
          const read = expectKind(await engine.read(p, start), 'ok').records
          expect(read.map((r) => [r.offset, r.timestamp, valueOf(r)])).toEqual([
            [0, clock.now, { key: 'k', value: { amount: 3.5 }, headers: { h: 'v' } }],
            [1, clock.now, { key: null, value: null }],
            [2, stamped, { key: 'old', value: 1 }],
          ])
        }))

      test('a compacted topic refuses keyless records; max.message.bytes refuses a batch whole, as too large', () =>
        withEngine(async ({ engine, admin }) => {
          await admin.createTopic('keys', { configEntries: [compact] })
          const keyless = expectKind(
            await appendRecords(engine, '/topics/keys/0', [{ key: 'a', value: 1 }, { value: 2 }]),
            'badRequest',
          )
          expect(keyless.message).toMatch(/key/)
          expect(keyless.tooLarge).toBeFalsy()
          expect(await values(engine, '/topics/keys/0')).toEqual([])

          await admin.createTopic('small', {
            configEntries: [{ name: 'max.message.bytes', value: '64' }],
          })
          const p = '/topics/small/0'
          const big = expectKind(
            await appendRecords(engine, p, [
              { key: 'a', value: 'fits' },
              { key: 'b', value: 'x'.repeat(64) },
            ]),
            'badRequest',
          )
          expect(big.tooLarge).toBe(true)
          expect(await values(engine, p)).toEqual([])
          expectKind(await appendRecords(engine, p, [{ key: 'a', value: 'fits' }]), 'appended')
        }))

      test('compaction keeps the latest record per key with offsets unchanged, then drops old tombstones', () =>
        withEngine(async ({ engine, admin, clock }) => {
          await admin.createTopic('profiles', {
            configEntries: [compact, { name: 'delete.retention.ms', value: '1000' }],
          })
          const p = '/topics/profiles/0'
          await appendRecords(engine, p, [
            { key: 'ada', value: 1 }, // 0
            { key: 'bob', value: 1 }, // 1
            { key: 'ada', value: 2 }, // 2
            { key: 'cy', value: 1 }, // 3
            { key: 'bob', value: null }, // 4: tombstone
          ])
          const [report] = await admin.cleanTopic('profiles')
          expect(report).toEqual({
            path: p,
            startOffset: 0,
            removedByRetention: 0,
            removedByCompaction: 2,
          })
          const compacted = [
            [2, 'ada', 2],
            [3, 'cy', 1],
            [4, 'bob', null],
          ]
          const all = await engine.read(p, start)
          expect(keyed(all)).toEqual(compacted)
          expect(all).toMatchObject({ nextOffset: 5, upToDate: true })
          // A read from a removed offset starts at the next record still there.
          expect(keyed(await engine.read(p, at(0)))).toEqual(compacted)
          expect(keyed(await engine.read(p, at(1)))).toEqual(compacted)
          expect(keyed(await engine.read(p, at(3)))).toEqual(compacted.slice(1))
          expect((await admin.describeTopic('profiles')).partitions[0]).toMatchObject({
            startOffset: 0,
            nextOffset: 5,
          })
          clock.now += 2_000
          expect((await admin.cleanTopic('profiles'))[0]!.removedByCompaction).toBe(1)
          expect(keyed(await engine.read(p, start))).toEqual(compacted.slice(0, 2))
          // New appends continue after the old offsets.
          await appendRecords(engine, p, [{ key: 'dee', value: 1 }])
          expect(keyed(await engine.read(p, at(5)))).toEqual([[5, 'dee', 1]])
        }))

      test('compaction cleans a prefix: an old-stamped tombstone never outlives a younger value it deleted', () =>
        withEngine(async ({ engine, admin, clock }) => {
          await admin.createTopic('stamps', {
            configEntries: [
              compact,
              { name: 'min.compaction.lag.ms', value: '3600000' },
              { name: 'delete.retention.ms', value: '0' },
            ],
          })
          const p = '/topics/stamps/0'
          const old = clock.now - 7_200_000
          await appendRecords(engine, p, [{ key: 'old', value: 1, timestamp: old }]) // 0: cleanable
          await appendRecords(engine, p, [{ key: 'old', value: 2, timestamp: old }]) // 1: cleanable
          await appendRecords(engine, p, [{ key: 'K', value: 'v1' }]) // 2: too young: ends the prefix
          await appendRecords(engine, p, [{ key: 'K', value: null, timestamp: old }]) // 3: after it
          expect((await admin.cleanTopic('stamps'))[0]!.removedByCompaction).toBe(1)
          expect(keyed(await engine.read(p, start))).toEqual([
            [1, 'old', 2],
            [2, 'K', 'v1'],
            [3, 'K', null],
          ])
        }))

      test('reads step over compaction gaps, in chunks, and stop at the tail', () =>
        withEngine(async ({ engine, admin }) => {
          await admin.createTopic('long', { configEntries: [compact] })
          const p = '/topics/long/0'
          // 500 records over 10 keys, in appends of 50: offsets 490-499 hold each key's latest.
          for (let batch = 0; batch < 10; batch++) {
            const messages = Array.from({ length: 50 }, (_, i) => {
              const n = batch * 50 + i
              return { key: `k${n % 10}`, value: n }
            })
            expectKind(await appendRecords(engine, p, messages), 'appended')
          }
          expect((await readAll(engine, p)).records.map((r) => r.offset)).toEqual([
            ...Array(500).keys(),
          ])
          expect((await admin.cleanTopic('long'))[0]!.removedByCompaction).toBe(490)
          const latest = Array.from({ length: 10 }, (_, i) => [490 + i, `k${i}`, 490 + i])
          const { records: after } = await readAll(engine, p)
          expect(keyedRecords(after)).toEqual(latest)
          // From inside the removed range, and one record (of 24 bytes) a read: each read's
          // next offset steps over the gap behind its record.
          const chunked = await readAll(engine, p, at(100), 20)
          expect(chunked.records.map((r) => r.offset)).toEqual(latest.map(([o]) => o))
          expect(chunked.reads).toBe(10)
        }))

      test('retention.ms removes old records and moves the start: reads below it are refused', () =>
        withEngine(async ({ engine, admin, clock }) => {
          await admin.createTopic('events', {
            configEntries: [{ name: 'retention.ms', value: '60000' }],
          })
          const p = '/topics/events/0'
          await appendRecords(engine, p, [
            { key: null, value: 'old-1' },
            { key: null, value: 'old-2' },
          ])
          clock.now += 61_000
          await appendRecords(engine, p, [{ key: null, value: 'new' }])
          const [report] = await admin.cleanTopic('events')
          expect(report).toEqual({
            path: p,
            startOffset: 2,
            removedByRetention: 2,
            removedByCompaction: 0,
          })
          expect(keyed(await engine.read(p, start))).toEqual([[2, null, 'new']])
          for (const offset of [0, 1]) {
            expect(await engine.read(p, at(offset))).toEqual({ kind: 'belowStart', startOffset: 2 })
          }
          expect(keyed(await engine.read(p, at(2)))).toEqual([[2, null, 'new']])
          expect(expectKind(await engine.head(p), 'ok').stream).toMatchObject({
            startOffset: 2,
            nextOffset: 3,
          })
          expect((await admin.describeTopic('events')).partitions[0]).toMatchObject({
            startOffset: 2,
            nextOffset: 3,
            start: formatOffset(2),
          })
          // Nothing more to remove: the start stays.
          expect((await admin.cleanTopic('events'))[0]).toMatchObject({
            startOffset: 2,
            removedByRetention: 0,
          })
        }))

      test('retention.bytes keeps the newest records within the limit', () =>
        withEngine(async ({ engine, admin }) => {
          await admin.createTopic('sized', {
            configEntries: [{ name: 'retention.bytes', value: '40' }],
          })
          const p = '/topics/sized/0'
          for (let i = 0; i < 5; i++) {
            await appendRecords(engine, p, [{ key: null, value: `v${i}` }]) // 25 bytes each
          }
          const [report] = await admin.cleanTopic('sized')
          expect(report).toMatchObject({ startOffset: 4, removedByRetention: 4 })
          expect(keyed(await engine.read(p, start))).toEqual([[4, null, 'v4']])
        }))

      test('compaction and retention together; the background pass of a lone server cleans every topic', () =>
        withEngine(async ({ engine, admin, clock }) => {
          for (const topic of ['a', 'b']) {
            await admin.createTopic(topic, {
              numPartitions: 2,
              configEntries: [
                { name: 'cleanup.policy', value: 'compact,delete' },
                { name: 'retention.ms', value: '60000' },
              ],
            })
            await appendRecords(engine, `/topics/${topic}/1`, [{ key: 'old', value: 0 }]) // 0
          }
          clock.now += 61_000
          await appendRecords(engine, '/topics/b/1', [
            { key: 'x', value: 1 }, // 1: compacted away
            { key: 'y', value: 1 }, // 2
            { key: 'x', value: 2 }, // 3
          ])
          expect(await engine.topics.leadCleaning(1_000)).toBe(true)
          await admin.backgroundPass(1_000)
          expect(await engine.read('/topics/a/1', at(0))).toEqual({
            kind: 'belowStart',
            startOffset: 1,
          })
          expect(keyed(await engine.read('/topics/b/1', start))).toEqual([
            [2, 'y', 1],
            [3, 'x', 2],
          ])
          expect((await admin.describeTopic('b')).partitions[1]).toMatchObject({
            startOffset: 1,
            nextOffset: 4,
          })
          // A partition gone by its turn (its topic deleted meanwhile) reports nothing cleaned.
          await admin.deleteTopic('a')
          expect(await engine.topics.cleanPartition('/topics/a/1', clock.now)).toEqual({
            path: '/topics/a/1',
            startOffset: 0,
            removedByRetention: 0,
            removedByCompaction: 0,
          })
        }))
    })

    if (factory.durable) {
      test('what was acknowledged survives a reopen: streams, records, producers, closes, topics', () =>
        withEngine(async (ctx) => {
          await create(ctx.engine, '/d')
          const p = (seq: number) => ({ producer: producer('p', 0, seq) })
          expectKind(await append(ctx.engine, '/d', '[1,2]', p(0)), 'appended')
          await create(ctx.engine, '/closed', { body: encoder.encode('["end"]') })
          await append(ctx.engine, '/closed', '', { close: true })
          await ctx.admin.createTopic('kept', { numPartitions: 2, configEntries: [compact] })
          await appendRecords(ctx.engine, '/topics/kept/1', [{ key: 'k', value: 1 }])
          await ctx.reopen()
          const { engine, admin } = ctx
          expect(await values(engine, '/d')).toEqual([1, 2])
          // The producer's retry is still a duplicate; its next seq is taken.
          expectKind(await append(engine, '/d', '[1,2]', p(0)), 'duplicate')
          expectKind(await append(engine, '/d', '[3]', p(1)), 'appended')
          expectKind(await append(engine, '/closed', '[1]'), 'streamClosed')
          expect(await values(engine, '/closed')).toEqual(['end'])
          expect(await admin.listTopics()).toEqual(['kept'])
          expect((await admin.describeTopic('kept')).partitions[1]).toMatchObject({
            nextOffset: 1,
          })
          expectKind(await appendRecords(engine, '/topics/kept/1', [{ value: 1 }]), 'badRequest')
        }))
    }
  })
}
