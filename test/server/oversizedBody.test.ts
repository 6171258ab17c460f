import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { readErrorBody } from '../../src/protocol/index.ts'
import { startCli, type CliServer } from './support/cliProcess.ts'
import { startTestServer, type TestServer } from './support/testServer.ts'

// PROTOCOL.md §5.2 (Append to Stream): "413 Payload Too Large: Request body exceeds server
// limits"; the conformance suite's "should handle large payload appropriately" POSTs 10 MiB with
// Node's fetch (undici) and expects a status it can read. Refused before its body is read, the
// request must still get that answer: closing the connection under a client still writing makes
// undici fail the fetch (EPIPE, "fetch failed") instead of showing the 413.

const maxBody = 64 * 1024
/** Far over the limit, as in the conformance test: most of it is still unsent when the 413 goes out. */
const oversized = 10 * 1024 * 1024
/** Closing early loses the race only sometimes: enough rounds that a regression shows every run. */
const rounds = 6

async function expectReadable413(url: string, streamed: boolean): Promise<void> {
  const bytes = new Uint8Array(oversized)
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    // Sized up front (refused on Content-Length) or chunked (refused once the count passes).
    body: streamed ? new Blob([bytes]).stream() : bytes,
    ...(streamed && { duplex: 'half' }),
  } as RequestInit)
  expect(res.status).toBe(413)
  expect(res.headers.get('content-type')).toBe('application/json')
  expect(readErrorBody(await res.json())?.code).toBe('MESSAGE_TOO_LARGE')
}

async function expectEveryOversizedAppendAnswered(base: string): Promise<void> {
  const stream = `${base}/v1/stream/oversized`
  const created = await fetch(stream, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
  })
  expect(created.status).toBe(201)
  for (let round = 0; round < rounds; round++) {
    await expectReadable413(stream, false)
    await expectReadable413(stream, true)
  }
  // Nothing of the refused bodies was stored, and the server still takes appends.
  const ok = await fetch(stream, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: new Uint8Array(maxBody),
  })
  expect(ok.status).toBe(204)
  const head = await fetch(stream, { method: 'HEAD' })
  expect(head.headers.get('stream-next-offset')).toBe(`0000000000000000_${'1'.padStart(16, '0')}`)
}

describe('an append over the body limit reaches Node fetch as a readable 413', () => {
  describe('in-process server', () => {
    let server: TestServer
    beforeAll(async () => {
      server = await startTestServer({ maxBodyBytes: maxBody })
    })
    afterAll(() => server.stop())

    test('sized and streamed bodies, again and again', async () => {
      await expectEveryOversizedAppendAnswered(server.url)
    }, 60_000)
  })

  describe('duality serve (the CLI process)', () => {
    let cli: CliServer
    beforeAll(async () => {
      cli = await startCli(['--memory', '--max-body', String(maxBody)])
    })
    afterAll(async () => {
      cli.child.kill('SIGTERM')
      await cli.exited
    })

    test('sized and streamed bodies, again and again', async () => {
      await expectEveryOversizedAppendAnswered(cli.url)
    }, 60_000)
  })
})
