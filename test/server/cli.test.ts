import { SignJWT } from 'jose'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { startCli, type CliServer } from './support/cliProcess.ts'
import { newSigningKey, signToken, startIdentityProvider } from './support/identityProvider.ts'

const dir = mkdtempSync(join(tmpdir(), 'duality-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const path = '/v1/stream/kill'
const create = (url: string, authorization?: string) =>
  fetch(`${url}${path}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...(authorization && { authorization }) },
  })

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

/** Per producer: the seq it sends next (retried until acknowledged) and the seqs acknowledged. */
interface Producers {
  next: number[]
  acked: Set<number>[]
  total: number
}
const newProducers = (): Producers => ({
  next: producers.map(() => 0),
  acked: producers.map(() => new Set<number>()),
  total: 0,
})

/**
 * The four producers append concurrently until their requests fail (the server is gone), the
 * process getting `signal` once `count` more appends are acknowledged; the other appends are
 * then cut at different stages: not yet received, committed but not answered, answered but not
 * yet read by the client. Every answer must be an acknowledgement.
 */
async function appendUntilSignalled(
  server: CliServer,
  state: Producers,
  count: number,
  signal: NodeJS.Signals,
): Promise<void> {
  const target = state.total + count
  await Promise.all(
    producers.map(async (p) => {
      for (;;) {
        let status: number
        try {
          status = (await append(server.url, p, state.next[p]!)).status
        } catch {
          return // the server is gone; this seq is retried after the restart
        }
        expect([200, 204]).toContain(status)
        state.acked[p]!.add(state.next[p]!++)
        if (++state.total === target) server.child.kill(signal)
      }
    }),
  )
}

/** Restarts on `data`, retries each producer's unanswered seq, and checks every stream is whole. */
async function restartAndCheck(data: string, state: Producers): Promise<number[]> {
  const server = await startCli(['--data', data])
  const retried: number[] = []
  for (const p of producers) {
    // 200 if the append never committed, 204 if it was committed but never answered.
    const { status } = await append(server.url, p, state.next[p]!)
    expect([200, 204]).toContain(status)
    retried.push(status)
    state.acked[p]!.add(state.next[p]!++)
  }
  const records = (await (await fetch(`${server.url}${path}`)).json()) as {
    p: number
    seq: number
  }[]
  server.child.kill('SIGTERM')
  expect((await server.exited).code).toBe(0)
  for (const p of producers) {
    const seqs = records.filter((r) => r.p === p).map((r) => r.seq)
    expect(seqs).toEqual([...Array(state.next[p]).keys()]) // dense, in order, each once
    for (const seq of state.acked[p]!) expect(seqs).toContain(seq)
  }
  return retried
}

describe('duality serve (the CLI process)', () => {
  test('SIGKILL mid-append, 20 times: every acknowledged append survives, retries add no duplicates', async () => {
    const data = join(dir, 'kill')
    const state = newProducers()
    for (let round = 0; round < 20; round++) {
      const server = await startCli(['--data', data])
      expect((await create(server.url)).status).toBeLessThan(300)
      await appendUntilSignalled(server, state, 4 + (round % 7), 'SIGKILL')
      expect((await server.exited).signal).toBe('SIGKILL')
    }
    await restartAndCheck(data, state)
  }, 180_000)

  test('SIGTERM mid-append: appends in flight are answered before exit 0, none is lost', async () => {
    const data = join(dir, 'term-mid-append')
    const state = newProducers()
    for (let round = 0; round < 3; round++) {
      const server = await startCli(['--data', data])
      expect((await create(server.url)).status).toBeLessThan(300)
      await appendUntilSignalled(server, state, 20 + round * 13, 'SIGTERM')
      expect(await server.exited).toEqual({ code: 0, signal: null })
      expect(server.output()).toContain('duality server stopped')
    }
    // Unlike a kill, a graceful stop answers every append it committed: no retry is a duplicate.
    expect(await restartAndCheck(data, state)).toEqual(producers.map(() => 200))
  }, 60_000)

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

  test('--auth-secret and --auth-jwks: no valid bearer token, 401; a valid one, served', async () => {
    const secret = 'cli-secret-of-at-least-32-bytes!!'
    const key = await newSigningKey('cli-1', 'ES256')
    const idp = await startIdentityProvider([key])
    try {
      const cases = [
        {
          args: ['--auth-secret', secret],
          token: await new SignJWT({ sub: 'ada' })
            .setProtectedHeader({ alg: 'HS256' })
            .setExpirationTime('5m')
            .sign(new TextEncoder().encode(secret)),
        },
        { args: ['--auth-jwks', idp.jwksUrl], token: await signToken(key, { sub: 'ada' }) },
      ]
      for (const { args, token } of cases) {
        const server = await startCli(['--memory', ...args])
        expect((await create(server.url)).status).toBe(401)
        expect((await create(server.url, `Bearer ${token}x`)).status).toBe(401)
        expect((await create(server.url, `Bearer ${token}`)).status).toBe(201)
        server.child.kill('SIGTERM')
        expect((await server.exited).code).toBe(0)
      }
    } finally {
      await idp.stop()
    }
    // Two processes started and stopped: seconds each on a loaded machine.
  }, 60_000)

  test('refuses a bad --port and exits', async () => {
    await expect(startCli(['--port', 'nope'])).rejects.toThrow(/port/)
  })

  // PROTOCOL.md §5.6 (Read Stream - Live (Long-poll)): "If the timeout expires, servers return
  // 204 No Content with Stream-Up-To-Date: true". The timeout is the server's: the CLI sets it.
  test('--long-poll-timeout: a long-poll with nothing to read answers 204 after that long', async () => {
    const server = await startCli(['--memory', '--long-poll-timeout', '200'])
    try {
      const stream = `${server.url}/v1/stream/quiet`
      const made = await fetch(stream, { method: 'PUT', headers: { 'content-type': 'text/plain' } })
      expect(made.status).toBe(201)
      const started = performance.now()
      const res = await fetch(`${stream}?offset=now&live=long-poll`)
      const waited = performance.now() - started
      expect(res.status).toBe(204)
      expect(res.headers.get('stream-up-to-date')).toBe('true')
      // It waited (not an immediate answer), and far less than the 30 s default.
      expect(waited).toBeGreaterThanOrEqual(150)
      expect(waited).toBeLessThan(10_000)
    } finally {
      server.child.kill('SIGTERM')
      await server.exited
    }
  })

  test.each(['0', '-5', '1.5', '1e3', 'soon', '', '2147483648'])(
    'refuses --long-poll-timeout %j with a message naming it, exit code 1',
    async (value) => {
      // `=`: a value starting with a dash is otherwise taken for another option by parseArgs.
      await expect(startCli(['--memory', `--long-poll-timeout=${value}`])).rejects.toThrow(
        /exited \(1\)[\s\S]*--long-poll-timeout must be a whole number of milliseconds/,
      )
    },
  )
})
