import { connect, type Socket } from 'node:net'
import { expect, test, vi } from 'vitest'
import { until } from '../support/until.ts'
import { startTestServer } from './support/testServer.ts'

const MiB = 1024 * 1024

test('an SSE client that stops reading holds the server to what the socket buffers, not the stream', async () => {
  const server = await startTestServer()
  let socket: Socket | undefined
  try {
    const text = { 'content-type': 'text/plain' }
    await fetch(`${server.url}/v1/stream/big`, { method: 'PUT', headers: text })
    await fetch(`${server.url}/v1/stream/other`, { method: 'PUT', headers: text })
    const chunk = 'x'.repeat(MiB / 2)
    for (let i = 0; i < 120; i++) {
      await fetch(`${server.url}/v1/stream/big`, { method: 'POST', headers: text, body: chunk })
    }
    // 60 MiB: 60 reads of 1 MiB for a client that reads it all. Reads of /big only (the first
    // read is the SSE request's).
    let reads = 0
    let bigPath: string | undefined
    const read = server.engine.read.bind(server.engine)
    vi.spyOn(server.engine, 'read').mockImplementation((path, ...rest) => {
      bigPath ??= path
      if (path === bigPath) reads++
      return read(path, ...rest)
    })
    let received = 0
    let tail = ''
    const opened = connect(server.port, '127.0.0.1', () => {
      opened.write('GET /v1/stream/big?offset=-1&live=sse HTTP/1.1\r\nhost: x\r\n\r\n')
      opened.pause() // and do not read, for now
    })
    socket = opened
    opened.on('data', (data: Buffer) => {
      received += data.length
      tail = (tail + data.toString('latin1')).slice(-256)
    })
    await until(() => reads > 0)
    // The point: the server has answered a later request. Between reads the SSE loop awaits the
    // engine (synchronous over SQLite) and, with backpressure, the client. Without the latter it
    // would read all 60 chunks in one run of microtasks, before the server's next I/O callback,
    // so before it answers this request. (A loop that yielded to the event loop between chunks
    // without waiting for the client would need a longer look; this loop does not yield.)
    expect((await fetch(`${server.url}/v1/stream/other`, { method: 'HEAD' })).status).toBe(200)
    expect(received).toBe(0)
    // Socket buffers take a few chunks; without backpressure the server read on to the end.
    expect(reads).toBeLessThan(20)

    // Then the client reads: the rest follows, to the end (holding back must not stall it).
    opened.resume()
    await until(() => tail.includes('"upToDate":true'), 30_000)
    expect(received).toBeGreaterThan(60 * MiB)
    expect(reads).toBeGreaterThanOrEqual(60)
  } finally {
    socket?.destroy()
    vi.restoreAllMocks()
    await server.stop()
  }
}, 60_000)
