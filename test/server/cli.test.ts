import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { startCli } from './support/cliProcess.ts'

const dir = mkdtempSync(join(tmpdir(), 'duality-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const path = '/kill/stream'
const create = (url: string) =>
  fetch(`${url}${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' } })

/** One idempotent append by producer `p` (epoch 0); the body names the producer and seq too. */
const append = (url: string, p: number, seq: number) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'producer-id': `writer-${p}`,
      'producer-epoch': '0',
      'producer-seq': String(seq),
    },
    body: JSON.stringify({ p, seq }),
  })

const producers = [0, 1, 2, 3]

describe('duality serve (the CLI process)', () => {
  test('SIGKILL mid-append, 20 times: every acknowledged append survives, retries add no duplicates', async () => {
    const data = join(dir, 'kill')
    // Per producer: the seq it sends next (retried until acknowledged) and the seqs acknowledged.
    const next = producers.map(() => 0)
    const acked = producers.map(() => new Set<number>())
    let total = 0
    for (let round = 0; round < 20; round++) {
      const server = await startCli(['--data', data])
      expect((await create(server.url)).status).toBeLessThan(300)
      // Four producers append concurrently; the process is killed as soon as the round's target
      // of acknowledgements is reached, so the other appends are cut at different stages: not yet
      // received, committed but not answered, answered but not yet read by the client.
      const target = total + 4 + (round % 7)
      let killed = false
      await Promise.all(
        producers.map(async (p) => {
          while (!killed) {
            let status: number
            try {
              status = (await append(server.url, p, next[p]!)).status
            } catch {
              return // the server is gone; this seq is retried after the restart
            }
            expect([200, 204]).toContain(status)
            acked[p]!.add(next[p]!++)
            if (++total >= target && !killed) {
              killed = true
              server.child.kill('SIGKILL')
            }
          }
        }),
      )
      expect((await server.exited).signal).toBe('SIGKILL')
    }
    const server = await startCli(['--data', data])
    for (const p of producers) {
      // 200 if the kill beat the commit, 204 if the append was committed but never answered.
      expect([200, 204]).toContain((await append(server.url, p, next[p]!)).status)
      acked[p]!.add(next[p]!++)
    }
    const records = (await (await fetch(`${server.url}${path}`)).json()) as {
      p: number
      seq: number
    }[]
    server.child.kill('SIGTERM')
    await server.exited
    for (const p of producers) {
      const seqs = records.filter((r) => r.p === p).map((r) => r.seq)
      expect(seqs).toEqual([...Array(next[p]).keys()]) // dense, in order, each once
      for (const seq of acked[p]!) expect(seqs).toContain(seq)
    }
  }, 180_000)

  test('SIGTERM shuts down gracefully: exit code 0, and the data is there after a restart', async () => {
    const data = join(dir, 'term')
    const first = await startCli(['--data', data])
    await create(first.url)
    for (let seq = 0; seq < 5; seq++) expect((await append(first.url, 0, seq)).status).toBe(200)
    first.child.kill('SIGTERM')
    expect(await first.exited).toEqual({ code: 0, signal: null })
    expect(first.output()).toContain('duality server stopped')
    const second = await startCli(['--data', data])
    const records = await (await fetch(`${second.url}${path}`)).json()
    expect(records).toEqual([0, 1, 2, 3, 4].map((seq) => ({ p: 0, seq })))
    expect((await append(second.url, 0, 4)).status).toBe(204) // a retry is still a duplicate
    second.child.kill('SIGTERM')
    expect((await second.exited).code).toBe(0)
  }, 60_000)

  test('--auth-secret: requests without a valid bearer token get 401', async () => {
    const server = await startCli([
      '--memory',
      '--auth-secret',
      'cli-secret-of-at-least-32-bytes!!',
    ])
    expect((await create(server.url)).status).toBe(401)
    server.child.kill('SIGTERM')
    expect((await server.exited).code).toBe(0)
  })

  test('refuses a bad --port and exits', async () => {
    await expect(startCli(['--port', 'nope'])).rejects.toThrow(/port/)
  })
})
