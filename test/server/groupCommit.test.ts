import { expect, test } from 'vitest'
import {
  EmbeddedEngine,
  memoryServerStorage,
  TransactionAborted,
  type ServerStorage,
} from '../../src/server/index.ts'
import type { AppendRequest } from '../../src/server/engine/outcomes.ts'

// Group commit (TurnCommit.ts): appends that arrive in one turn of the event loop, to any
// streams, share one storage transaction and one flush; each is isolated in its own savepoint.

interface Instrumented {
  storage: ServerStorage
  /** Outermost transactions begun (commits attempted). */
  commits: number
  flushes: number
  /** Set to make the next outermost commit fail (after its work ran, rolling it all back). */
  failCommit?: Error | undefined
  /** Set to make the next flush reject. */
  failFlush?: Error | undefined
  /** Set to make appendRecords throw for this stream id. */
  throwOn?: { streamId: number; error: unknown }
}

/** A memory storage with a flush (like SQLite's fdatasync), counting commits and flushes. */
function instrumented(): Instrumented {
  const inner = memoryServerStorage()
  let depth = 0
  const state: Instrumented = { storage: undefined!, commits: 0, flushes: 0 }
  state.storage = {
    ...inner,
    transaction<T>(fn: () => T): T {
      if (depth === 0) state.commits++
      depth++
      try {
        return inner.transaction(() => {
          const result = fn()
          const failure = depth === 1 ? state.failCommit : undefined
          if (failure) {
            state.failCommit = undefined
            throw failure
          }
          return result
        })
      } finally {
        depth--
      }
    },
    flush() {
      state.flushes++
      const failure = state.failFlush
      state.failFlush = undefined
      return failure ? Promise.reject(failure) : Promise.resolve()
    },
    appendRecords(streamId, records) {
      if (state.throwOn?.streamId === streamId) throw state.throwOn.error
      inner.appendRecords(streamId, records)
    },
  }
  return state
}

const json = 'application/json'
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

const append = (path: string, body: string): AppendRequest => ({
  path,
  contentType: json,
  body: bytes(body),
  streamSeq: undefined,
  producer: undefined,
  close: false,
})

async function setup(paths: string[]): Promise<{ s: Instrumented; engine: EmbeddedEngine }> {
  const s = instrumented()
  const engine = new EmbeddedEngine({ storage: s.storage })
  for (const path of paths) {
    const outcome = await engine.createStream({
      path,
      contentType: json,
      ttlSeconds: undefined,
      expiresAt: undefined,
      closed: false,
      body: new Uint8Array(),
      fork: undefined,
    })
    expect(outcome.kind).toBe('created')
  }
  s.commits = 0
  s.flushes = 0
  return { s, engine }
}

const tailOf = async (engine: EmbeddedEngine, path: string): Promise<number | undefined> => {
  const head = await engine.head(path)
  return head.kind === 'ok' ? head.stream.nextOffset : undefined
}

test('appends to different streams in one turn share one commit and one flush', async () => {
  const paths = ['/v1/stream/a', '/v1/stream/b', '/v1/stream/c']
  const { s, engine } = await setup(paths)
  const outcomes = await Promise.all([
    engine.append(append(paths[0]!, '[1,2]')),
    engine.append(append(paths[1]!, '[3]')),
    engine.append(append(paths[2]!, '[4,5,6]')),
    engine.append(append(paths[0]!, '[7]')),
  ])
  expect(outcomes.map((o) => o.kind)).toEqual(['appended', 'appended', 'appended', 'appended'])
  expect(s.commits).toBe(1)
  expect(s.flushes).toBe(1)
  expect(await tailOf(engine, paths[0]!)).toBe(3)
  expect(await tailOf(engine, paths[1]!)).toBe(1)
  expect(await tailOf(engine, paths[2]!)).toBe(3)
})

test('appends in different turns commit separately', async () => {
  const { s, engine } = await setup(['/v1/stream/a'])
  await engine.append(append('/v1/stream/a', '[1]'))
  await engine.append(append('/v1/stream/a', '[2]'))
  expect(s.commits).toBe(2)
  expect(s.flushes).toBe(2)
})

test('a refused append in a group leaves the others of the group written', async () => {
  const paths = ['/v1/stream/a', '/v1/stream/b', '/v1/stream/c']
  const { s, engine } = await setup(paths)
  const outcomes = await Promise.all([
    engine.append(append(paths[0]!, '[1]')),
    engine.append(append(paths[1]!, '[not json')),
    engine.append(append('/v1/stream/missing', '[2]')),
    engine.append(append(paths[2]!, '[3,4]')),
  ])
  expect(outcomes.map((o) => o.kind)).toEqual(['appended', 'badRequest', 'notFound', 'appended'])
  expect(s.commits).toBe(1)
  expect(await tailOf(engine, paths[0]!)).toBe(1)
  expect(await tailOf(engine, paths[1]!)).toBe(0)
  expect(await tailOf(engine, paths[2]!)).toBe(2)
})

test('an append that throws mid-write rolls back alone; the rest of its group commits', async () => {
  const paths = ['/v1/stream/a', '/v1/stream/b']
  const { s, engine } = await setup(paths)
  const head = await engine.head(paths[1]!)
  if (head.kind !== 'ok') throw new Error('no stream b')
  const boom = new Error('write failed')
  s.commits = 0 // the head above was a transaction of its own
  s.throwOn = { streamId: head.stream.id, error: boom }
  const results = await Promise.allSettled([
    engine.append(append(paths[0]!, '[1]')),
    engine.append(append(paths[1]!, '[2]')),
    engine.append(append(paths[0]!, '[3]')),
  ])
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
  expect((results[1] as PromiseRejectedResult).reason).toBe(boom)
  expect(s.commits).toBe(1)
  expect(await tailOf(engine, paths[0]!)).toBe(2)
  expect(await tailOf(engine, paths[1]!)).toBe(0)
})

test('a storage that aborts the whole transaction fails every append of the group', async () => {
  const paths = ['/v1/stream/a', '/v1/stream/b']
  const { s, engine } = await setup(paths)
  const head = await engine.head(paths[1]!)
  if (head.kind !== 'ok') throw new Error('no stream b')
  const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })
  s.throwOn = { streamId: head.stream.id, error: new TransactionAborted(full) }
  const results = await Promise.allSettled([
    engine.append(append(paths[0]!, '[1]')),
    engine.append(append(paths[1]!, '[2]')),
  ])
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
  for (const r of results) expect((r as PromiseRejectedResult).reason).toBe(full)
  expect(await tailOf(engine, paths[0]!)).toBe(0)
})

test('a failed commit fails every append waiting on it, and writes nothing', async () => {
  const paths = ['/v1/stream/a', '/v1/stream/b']
  const { s, engine } = await setup(paths)
  const broken = new Error('commit failed')
  s.failCommit = broken
  const results = await Promise.allSettled([
    engine.append(append(paths[0]!, '[1]')),
    engine.append(append(paths[1]!, '[2]')),
    engine.append(append(paths[0]!, '[3]')),
  ])
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected'])
  for (const r of results) expect((r as PromiseRejectedResult).reason).toBe(broken)
  expect(s.flushes).toBe(0)
  expect(await tailOf(engine, paths[0]!)).toBe(0)
  expect(await tailOf(engine, paths[1]!)).toBe(0)
  // The next group is unaffected.
  expect((await engine.append(append(paths[0]!, '[4]'))).kind).toBe('appended')
  expect(await tailOf(engine, paths[0]!)).toBe(1)
})

test('a failed flush acknowledges none of its group and keeps the records hidden', async () => {
  const paths = ['/v1/stream/a', '/v1/stream/b']
  const { s, engine } = await setup(paths)
  const io = new Error('fdatasync failed')
  s.failFlush = io
  const results = await Promise.allSettled([
    engine.append(append(paths[0]!, '[1]')),
    engine.append(append(paths[1]!, '[2]')),
  ])
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected'])
  for (const r of results) expect((r as PromiseRejectedResult).reason).toBe(io)
  // Committed but never known durable: readers still see the streams as before it.
  expect(await tailOf(engine, paths[0]!)).toBe(0)
  expect(await tailOf(engine, paths[1]!)).toBe(0)
  // A later flush that succeeds covers them.
  expect((await engine.append(append(paths[0]!, '[3]'))).kind).toBe('appended')
  expect(await tailOf(engine, paths[0]!)).toBe(2)
  expect(await tailOf(engine, paths[1]!)).toBe(1)
})
