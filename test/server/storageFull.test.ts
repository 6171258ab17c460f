import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test, vi } from 'vitest'
import { formatOffset } from '../../src/protocol/index.ts'
import { serve } from '../../src/server/node/index.ts'
import { sqliteServerStorage } from '../../src/server/engines/sqlite/index.ts'
import { TransactionAborted, type AppendOutcome } from '../../src/server/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'duality-full-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const json = { 'content-type': 'application/json' }

test('a full SQLite store: 507, and in a group commit every append is all in or all out', async () => {
  const server = await serve({
    port: 0,
    storage: sqliteServerStorage({ filename: join(dir, 'full.db'), maxBytes: 256 * 1024 }),
    cleanerIntervalMs: 0,
  })
  // Quiet, but checked: what an operator sees of a full disk is asserted below, call by call.
  const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
  try {
    for (const path of ['/v1/stream/a', '/v1/stream/b']) {
      expect((await fetch(`${server.url}${path}`, { method: 'PUT', headers: json })).status).toBe(
        201,
      )
    }
    // Fill it over HTTP until it refuses.
    let status = 0
    for (let i = 0; i < 200 && status !== 507; i++) {
      const res = await fetch(`${server.url}/v1/stream/b`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify(['x'.repeat(8_000)]),
      })
      status = res.status
      if (status === 507) expect((await res.json()).error.code).toBe('QUOTA_EXCEEDED')
    }
    expect(status).toBe(507)
    // The refused append is logged, once, as the disk being full (not as a request failure).
    const full = [
      'duality server: storage full',
      expect.objectContaining({ name: 'SqliteError', code: 'SQLITE_FULL' }),
    ]
    expect(errors.mock.calls).toEqual([full])

    // One group (submitted in one turn): small appends around one that cannot fit.
    const before = {
      a: (await server.engine.head('/v1/stream/a')) as { stream: { nextOffset: number } },
      b: (await server.engine.head('/v1/stream/b')) as { stream: { nextOffset: number } },
    }
    const append = (path: string, body: string, producer?: string) =>
      server.engine.append({
        path,
        contentType: 'application/json',
        body: new TextEncoder().encode(body),
        streamSeq: undefined,
        producer: producer === undefined ? undefined : { id: producer, epoch: 0, seq: 0 },
        close: false,
      })
    const settled = await Promise.allSettled([
      append('/v1/stream/a', '[1]', 'p1'),
      append('/v1/stream/b', JSON.stringify(['y'.repeat(200_000)])),
      append('/v1/stream/a', '[2]'),
      append('/v1/stream/b', '[3]', 'p2'),
    ])
    const after = {
      a: (await server.engine.head('/v1/stream/a')) as { stream: { nextOffset: number } },
      b: (await server.engine.head('/v1/stream/b')) as { stream: { nextOffset: number } },
    }
    expect(settled[1]!.status).toBe('rejected')
    // Whatever SQLite did with the rest, an answer never lies: a refused append left nothing,
    // an accepted one is there, and a refused producer's retry is not taken for a duplicate.
    const grew = {
      a: after.a.stream.nextOffset - before.a.stream.nextOffset,
      b: after.b.stream.nextOffset - before.b.stream.nextOffset,
    }
    const accepted = (i: number) => settled[i]!.status === 'fulfilled'
    expect(grew.a).toBe((accepted(0) ? 1 : 0) + (accepted(2) ? 1 : 0))
    expect(grew.b).toBe(accepted(3) ? 1 : 0)
    for (const [i, path, producer] of [
      [0, '/v1/stream/a', 'p1'],
      [3, '/v1/stream/b', 'p2'],
    ] as const) {
      const retry = (await append(path, '[9]', producer)) as AppendOutcome
      expect(retry.kind).toBe(accepted(i) ? 'duplicate' : 'appended')
    }
    // The engine's refusals went to their caller as rejections: nothing more was logged.
    expect(errors.mock.calls).toEqual([full])
    const head = await fetch(`${server.url}/v1/stream/a`, { method: 'HEAD' })
    expect(head.headers.get('stream-next-offset')).toBe(
      formatOffset(before.a.stream.nextOffset + grew.a + (accepted(0) ? 0 : 1)),
    )
    // A topic's partitions are created in one transaction: refused whole, 507, nothing listed.
    const topic = await fetch(`${server.url}/admin/topics/many`, {
      method: 'PUT',
      headers: json,
      body: JSON.stringify({ numPartitions: 300 }),
    })
    expect(topic.status).toBe(507)
    // The partitions' nested write was aborted by the full disk: logged with SQLite's error as cause.
    const aborted = [
      'duality server: storage full',
      expect.objectContaining({
        message: 'The storage rolled back the whole transaction',
        cause: expect.objectContaining({ code: 'SQLITE_FULL' }),
      }),
    ]
    expect(await (await fetch(`${server.url}/admin/topics`)).json()).toEqual({ topics: [] })
    // Two 507s over HTTP, each logged once with SQLite's own error (the disk is full, not a bug).
    expect(errors.mock.calls).toEqual([full, aborted])
    expect(errors.mock.calls[1]![1]).toBeInstanceOf(TransactionAborted)
  } finally {
    errors.mockRestore()
    await server.close()
  }
})
