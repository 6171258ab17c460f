import { expect, test, vi } from 'vitest'
import { startTestServer } from './support/testServer.ts'

test('close ends live reads: long-polls answer 204, SSE streams end, then it resolves', async () => {
  const server = await startTestServer({ longPollTimeoutMs: 600_000, shutdownGraceMs: 600_000 })
  const url = `${server.url}/v1/stream/live`
  await fetch(url, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'hi' })
  const sse = await fetch(`${url}?offset=-1&live=sse`)
  const reader = sse.body!.getReader()
  let received = new TextDecoder().decode((await reader.read()).value)
  const poll = fetch(`${url}?offset=0000000000000000_0000000000000001&live=long-poll`)
  await vi.waitFor(() => expect(server.engine.parkedReads).toBe(2), { timeout: 30_000 })
  await server.stop()
  const polled = await poll
  expect(polled.status).toBe(204)
  expect(polled.headers.get('stream-up-to-date')).toBe('true')
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    received += new TextDecoder().decode(value)
  }
  expect(received).toContain('data:hi')
  await expect(fetch(url)).rejects.toThrow() // no longer listening
})
