import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test, vi } from 'vitest'
import { createApp, memoryServerStorage, type ServerStorage } from '../../src/server/index.ts'
import { formatOffset } from '../../src/protocol/index.ts'
import { sqliteServerStorage } from '../../src/server/engines/sqlite/index.ts'

// A storage whose commits become durable only when its flush finishes (SQLite's WAL fsync runs
// off the main thread): the engine must neither acknowledge nor show a write before that.
function heldStorage() {
  const waiting: { resolve: () => void; reject: (e: Error) => void }[] = []
  const storage: ServerStorage = {
    ...memoryServerStorage(),
    flush: () => new Promise<void>((resolve, reject) => waiting.push({ resolve, reject })),
  }
  const release = () => waiting.splice(0).forEach((w) => w.resolve())
  /** Fails every waiting flush; returns the errors they were rejected with. */
  const fail = () =>
    waiting.splice(0).map((w) => {
      const error = new Error('EIO: fsync failed')
      w.reject(error)
      return error
    })
  return { storage, waiting, release, fail }
}

const json = { 'content-type': 'application/json' }

/** An app over a held storage with the stream /v1/stream/s created (its flush released). */
async function withStream() {
  const held = heldStorage()
  const { app } = createApp({ storage: held.storage })
  const created = app.request('/v1/stream/s', { method: 'PUT', headers: json })
  await vi.waitFor(() => expect(held.waiting).toHaveLength(1))
  held.release()
  expect((await created).status).toBe(201)
  return { held, app }
}

const settled = async (r: Response | Promise<Response>) =>
  Promise.race([
    Promise.resolve(r).then(() => true),
    new Promise((r) => setTimeout(() => r(false), 50)),
  ])

test('an append is acknowledged and readable only once its flush is done', async () => {
  const held = heldStorage()
  const { app } = createApp({ storage: held.storage })
  const created = app.request('/v1/stream/s', { method: 'PUT', headers: json })
  expect(await settled(created)).toBe(false)
  held.release()
  expect((await created).status).toBe(201)

  const appended = app.request('/v1/stream/s', { method: 'POST', headers: json, body: '[1,2]' })
  await vi.waitFor(() => expect(held.waiting).toHaveLength(1))
  expect(await settled(appended)).toBe(false)
  // Committed, not yet durable: readers still see the stream as it was.
  const early = await app.request('/v1/stream/s?offset=-1')
  expect(await early.json()).toEqual([])
  expect(early.headers.get('stream-next-offset')).toBe(formatOffset(0))
  const head = await app.request('/v1/stream/s', { method: 'HEAD' })
  expect(head.headers.get('stream-next-offset')).toBe(formatOffset(0))

  held.release()
  expect((await appended).status).toBe(204)
  expect(await (await app.request('/v1/stream/s?offset=-1')).json()).toEqual([1, 2])
})

test('a write in flight while a flush runs waits for the next flush', async () => {
  const { held, app } = await withStream()
  const first = app.request('/v1/stream/s', { method: 'POST', headers: json, body: '[1]' })
  await vi.waitFor(() => expect(held.waiting).toHaveLength(1))
  const second = app.request('/v1/stream/s', { method: 'POST', headers: json, body: '[2]' })
  await vi.waitFor(() => expect(held.waiting).toHaveLength(2))
  // The first flush finishes: the first append is durable, the second not yet.
  held.waiting.shift()!.resolve()
  expect((await first).status).toBe(204)
  expect(await settled(second)).toBe(false)
  expect(await (await app.request('/v1/stream/s?offset=-1')).json()).toEqual([1])
  held.release()
  expect((await second).status).toBe(204)
  expect(await (await app.request('/v1/stream/s?offset=-1')).json()).toEqual([1, 2])
})

test('a failed flush acknowledges nothing', async () => {
  const { held, app } = await withStream()
  // Quiet, but checked: the operator must see the failed fsync itself in the log, once.
  const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
  try {
    const appended = app.request('/v1/stream/s', {
      method: 'POST',
      headers: { ...json, 'producer-id': 'p', 'producer-epoch': '0', 'producer-seq': '0' },
      body: '[1]',
    })
    await vi.waitFor(() => expect(held.waiting).toHaveLength(1))
    const [failure] = held.fail()
    const res = await appended
    expect(res.status).toBe(500)
    expect((await res.json()).error.code).toBe('UNKNOWN_SERVER_ERROR')
    // The very error the flush failed with (its stack and cause intact), not a summary of it.
    expect(errors.mock.calls).toEqual([['duality server: request failed', failure]])
    expect(errors.mock.calls[0]![1]).toBe(failure)
  } finally {
    errors.mockRestore()
  }
})

test('a created or deleted stream shows only once durable: readers wait for the flush', async () => {
  const held = heldStorage()
  const { app } = createApp({ storage: held.storage })
  const created = app.request('/v1/stream/s', { method: 'PUT', headers: json, body: '[1]' })
  await vi.waitFor(() => expect(held.waiting).toHaveLength(1))
  // Neither the stream nor its first record may be seen before they are durable.
  const head = app.request('/v1/stream/s', { method: 'HEAD' })
  const read = app.request('/v1/stream/s?offset=-1')
  expect(await settled(head)).toBe(false)
  expect(await settled(read)).toBe(false)
  held.release()
  expect((await created).status).toBe(201)
  expect((await head).status).toBe(200)
  expect(await (await read).json()).toEqual([1])

  const deleted = app.request('/v1/stream/s', { method: 'DELETE' })
  await vi.waitFor(() => expect(held.waiting).toHaveLength(1))
  const gone = app.request('/v1/stream/s?offset=-1')
  expect(await settled(gone)).toBe(false) // the records are already gone from storage
  held.release()
  expect((await deleted).status).toBe(204)
  expect((await gone).status).toBe(404)
})

test('a reader waiting on a deletion never sees a creation of the path made meanwhile before it is durable', async () => {
  const { held, app } = await withStream()
  const deleted = app.request('/v1/stream/s', { method: 'DELETE' })
  await vi.waitFor(() => expect(held.waiting).toHaveLength(1))
  const read = app.request('/v1/stream/s?offset=-1')
  const created = app.request('/v1/stream/s', { method: 'PUT', headers: json, body: '[2]' })
  held.waiting.shift()!.resolve() // the deletion is durable; the creation waited for it
  expect((await deleted).status).toBe(204)
  expect((await read).status).toBe(404)
  await vi.waitFor(() => expect(held.waiting).toHaveLength(1))
  const again = app.request('/v1/stream/s?offset=-1')
  expect(await settled(again)).toBe(false) // the new creation is not durable yet
  held.release()
  expect((await created).status).toBe(201)
  expect(await (await again).json()).toEqual([2])
})

test('answers about a path wait for its pending deletion: a second DELETE, a PUT, a fork of it', async () => {
  const { held, app } = await withStream()
  const first = app.request('/v1/stream/s', { method: 'DELETE' })
  await vi.waitFor(() => expect(held.waiting).toHaveLength(1))
  const second = app.request('/v1/stream/s', { method: 'DELETE' })
  const fork = app.request('/v1/stream/f', {
    method: 'PUT',
    headers: { ...json, 'stream-forked-from': '/v1/stream/s' },
  })
  expect(await settled(second)).toBe(false)
  expect(await settled(fork)).toBe(false)
  held.release()
  expect((await first).status).toBe(204)
  expect((await second).status).toBe(404)
  expect((await fork).status).toBe(404)
})

test("a fork made while its source's append is not durable reads nothing before both are", async () => {
  const { held, app } = await withStream()
  const appended = app.request('/v1/stream/s', { method: 'POST', headers: json, body: '[1]' })
  await vi.waitFor(() => expect(held.waiting).toHaveLength(1))
  const fork = app.request('/v1/stream/f', {
    method: 'PUT',
    headers: { ...json, 'stream-forked-from': '/v1/stream/s' },
  })
  await vi.waitFor(() => expect(held.waiting).toHaveLength(2))
  const read = app.request('/v1/stream/f?offset=-1')
  expect(await settled(read)).toBe(false)
  held.release()
  expect((await appended).status).toBe(204)
  expect((await fork).status).toBe(201)
  expect(await (await read).json()).toEqual([1])
})

test('the topic admin shows what is durable: tails, creations, and what retention may remove', async () => {
  const held = heldStorage()
  const { app } = createApp({ storage: held.storage })
  const admin = (path: string, init?: RequestInit) => app.request(`/admin/topics${path}`, init)
  const created = admin('/t', {
    method: 'PUT',
    headers: json,
    body: JSON.stringify({ configEntries: [{ name: 'retention.bytes', value: '0' }] }),
  })
  await vi.waitFor(() => expect(held.waiting).toHaveLength(1))
  // Listings show the durable state at once (not yet this topic); answers about the topic itself
  // (describe, a second creation's 409) wait for its creation to be durable.
  expect(await (await admin('')).json()).toEqual({ topics: [] })
  const describedEarly = admin('/t')
  const again = admin('/t', { method: 'PUT', headers: json, body: '{}' })
  expect(await settled(describedEarly)).toBe(false)
  expect(await settled(again)).toBe(false)
  held.release()
  expect((await created).status).toBe(201)
  expect((await describedEarly).status).toBe(200)
  expect((await again).status).toBe(409)
  expect(await (await admin('')).json()).toEqual({ topics: ['t'] })

  const appended = app.request('/topics/t/0', {
    method: 'POST',
    headers: json,
    body: '[{"value":1}]',
  })
  await vi.waitFor(() => expect(held.waiting).toHaveLength(1))
  const described = await (await admin('/t')).json()
  expect(described.partitions[0]).toMatchObject({ startOffset: 0, nextOffset: 0 })
  // Retention (retention.bytes 0) may remove only what is durable: nothing yet.
  const cleaning = admin('/t/clean', { method: 'POST' })
  await vi.waitFor(() => expect(held.waiting).toHaveLength(2))
  held.release()
  expect((await appended).status).toBe(204)
  expect((await (await cleaning).json()).partitions[0]).toMatchObject({ startOffset: 0 })
  const read = await app.request('/topics/t/0?offset=-1')
  expect((await read.json()).map((r: { value: number }) => r.value)).toEqual([1])
})

test('SQLite flushes its WAL for durable appends; NORMAL and :memory: do not need to', () => {
  const dir = mkdtempSync(join(tmpdir(), 'duality-durable-'))
  try {
    const full = sqliteServerStorage({ filename: join(dir, 'a.db') })
    const normal = sqliteServerStorage({ filename: join(dir, 'b.db'), synchronous: 'NORMAL' })
    const memory = sqliteServerStorage({ filename: ':memory:' })
    expect(typeof full.flush).toBe('function')
    expect(normal.flush).toBeUndefined()
    expect(memory.flush).toBeUndefined()
    for (const s of [full, normal, memory]) s.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
