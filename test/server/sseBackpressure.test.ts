import { connect } from 'node:net'
import { expect, test, vi } from 'vitest'
import { startTestServer } from './support/testServer.ts'

test('an SSE client that stops reading holds the server to what the socket buffers, not the stream', async () => {
  const server = await startTestServer()
  try {
    const text = { 'content-type': 'text/plain' }
    await fetch(`${server.url}/big`, { method: 'PUT', headers: text })
    const chunk = 'x'.repeat(512 * 1024)
    for (let i = 0; i < 120; i++) {
      await fetch(`${server.url}/big`, { method: 'POST', headers: text, body: chunk })
    }
    // 60 MiB: 60 reads of 1 MiB for a client that reads it all.
    const reads = vi.spyOn(server.engine, 'read')
    const socket = connect(server.port, '127.0.0.1', () => {
      socket.write('GET /big?offset=-1&live=sse HTTP/1.1\r\nhost: x\r\n\r\n')
      socket.pause() // and never read
    })
    await vi.waitFor(() => expect(reads).toHaveBeenCalled())
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    // Socket buffers take a few chunks; without backpressure the server read on to the end.
    expect(reads.mock.calls.length).toBeLessThan(20)
    socket.destroy()
  } finally {
    vi.restoreAllMocks()
    await server.stop()
  }
})
