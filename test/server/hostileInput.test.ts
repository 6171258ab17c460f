import { request } from 'node:http'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { startTestServer, type TestServer } from './support/testServer.ts'

let server: TestServer
beforeAll(async () => {
  server = await startTestServer({ maxBodyBytes: 64 * 1024 })
})
afterAll(() => server.stop())

/** A request with the target sent exactly as given (fetch would normalise `..` away). */
function raw(
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body?: Uint8Array | string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, method, path: target, headers },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** Bytes written as they are on a new connection; resolves with all it got until the server closed it. */
function rawSocket(bytes: string, hangUpAfterMs?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = ''
    const socket = connect(server.port, '127.0.0.1', () => {
      socket.write(bytes)
      if (hangUpAfterMs !== undefined) setTimeout(() => socket.destroy(), hangUpAfterMs)
    })
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (got += chunk))
    socket.on('close', () => resolve(got))
    socket.on('error', reject)
  })
}

/** Every refusal is a JSON `{ error: { code, message } }`. */
async function expectError(res: Response, status: number, code?: string): Promise<void> {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toBe('application/json')
  const body = (await res.json()) as { error: { code: string; message: string } }
  expect(body.error.message.length).toBeGreaterThan(0)
  if (code) expect(body.error.code).toBe(code)
}

const url = (path: string) => `${server.url}${path}`
const put = (path: string, type: string, body?: string) =>
  fetch(url(path), { method: 'PUT', headers: { 'content-type': type }, ...(body && { body }) })
const post = (path: string, headers: Record<string, string>, body: BodyInit) =>
  fetch(url(path), { method: 'POST', headers, body })
const readAll = async (path: string) => (await fetch(url(path))).text()

describe('hostile input over HTTP', () => {
  test('malformed JSON, invalid UTF-8 and empty batches: 400, nothing written', async () => {
    await put('/v1/stream/h/json', 'application/json')
    const json = { 'content-type': 'application/json' }
    await expectError(await post('/v1/stream/h/json', json, '{"a":'), 400, 'INVALID_RECORD')
    await expectError(
      await post('/v1/stream/h/json', json, new Uint8Array([0x22, 0xff, 0x22])),
      400,
    )
    await expectError(await post('/v1/stream/h/json', json, '[]'), 400)
    await expectError(await post('/v1/stream/h/json', json, 'undefined'), 400)
    const deep = '['.repeat(20_000) + ']'.repeat(20_000) // parses, but too deep to re-serialise
    await expectError(await post('/v1/stream/h/json', json, deep), 400, 'INVALID_RECORD')
    // The same limit for one message as for a batch's: 1,000 levels.
    const nested = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels)
    await expectError(await post('/v1/stream/h/json', json, nested(1_001)), 400, 'INVALID_RECORD')
    await expectError(
      await post('/v1/stream/h/json', json, `[${nested(1_000)}]`),
      400,
      'INVALID_RECORD',
    )
    expect(await readAll('/v1/stream/h/json')).toBe('[]')
    expect((await post('/v1/stream/h/json', json, nested(1_000))).status).toBe(204)
    await expectError(await put('/v1/stream/h/json-bad-init', 'application/json', '{oops'), 400)
    expect((await fetch(url('/v1/stream/h/json-bad-init'), { method: 'HEAD' })).status).toBe(404)
  })

  test('wrong or missing content types: 409 / 400, nothing written', async () => {
    await put('/v1/stream/h/text', 'text/plain')
    await expectError(
      await post('/v1/stream/h/text', { 'content-type': 'application/json' }, '{}'),
      409,
      'CONTENT_TYPE_MISMATCH',
    )
    const noType = await raw('POST', '/v1/stream/h/text', {}, 'data')
    expect(noType.status).toBe(400)
    expect(JSON.parse(noType.body).error.code).toBe('BAD_REQUEST')
    expect(await readAll('/v1/stream/h/text')).toBe('')
    // A header that is no media type is refused, not stored as octet-stream.
    await expectError(await put('/v1/stream/h/typeless', 'foo'), 400, 'BAD_REQUEST')
    expect((await fetch(url('/v1/stream/h/typeless'), { method: 'HEAD' })).status).toBe(404)
  })

  test('bodies over the limit: 413, whether sized up front or streamed', async () => {
    await put('/v1/stream/h/big', 'application/octet-stream')
    const big = new Uint8Array(64 * 1024 + 1)
    await expectError(
      await post('/v1/stream/h/big', { 'content-type': 'application/octet-stream' }, big),
      413,
      'MESSAGE_TOO_LARGE',
    )
    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new Uint8Array(8 * 1024))
        controller.close()
      },
    })
    await expectError(
      await fetch(url('/v1/stream/h/big'), {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: streamed,
        duplex: 'half',
      } as RequestInit),
      413,
    )
    // A body far over the limit is refused unread; the client's next request still works.
    const huge = await post(
      '/v1/stream/h/big',
      { 'content-type': 'application/octet-stream' },
      new Uint8Array(4 << 20),
    )
    await expectError(huge, 413, 'MESSAGE_TOO_LARGE')
    expect((await put('/v1/stream/h/big', 'application/octet-stream')).status).toBe(200)
    const head = await fetch(url('/v1/stream/h/big'), { method: 'HEAD' })
    expect(head.headers.get('stream-next-offset')).toBe('0000000000000000_0000000000000000')
  })

  test.each([
    'abc',
    '-2',
    '1_',
    '_1',
    '0_0x',
    '1e3',
    '0000000000000000_99999999999999999',
    'now%00',
    '1234567890123456_0000000000000000', // the reserved first part is always 0
    '1_0',
  ])('bad offset %j: 400', async (offset) => {
    await put('/v1/stream/h/offsets', 'text/plain', 'x')
    await expectError(
      await fetch(url(`/v1/stream/h/offsets?offset=${offset}`)),
      400,
      'INVALID_OFFSET',
    )
  })

  test('an offset past the tail reads nothing, and a long-poll there answers from it, never below', async () => {
    await put('/v1/stream/h/ahead', 'application/json', '[0]')
    const ahead = '0000000000000000_0000000000000003'
    const res = await fetch(url(`/v1/stream/h/ahead?offset=${ahead}`))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual([])
    expect(res.headers.get('stream-next-offset')).toBe(ahead) // never backwards
    const poll = fetch(url(`/v1/stream/h/ahead?offset=${ahead}&live=long-poll`))
    for (const n of [1, 2, 3, 4]) {
      await post('/v1/stream/h/ahead', { 'content-type': 'application/json' }, `[${n}]`)
    }
    const polled = await poll
    expect(polled.status).toBe(200)
    const values = (await polled.json()) as number[]
    expect(values[0]).toBe(3) // 3, or 3 and 4 if both had arrived: nothing below the offset asked
    expect(values.every((v) => v >= 3)).toBe(true)
  })

  test('empty and repeated offsets, and live modes without one: 400', async () => {
    await put('/v1/stream/h/offsets2', 'text/plain', 'x')
    await expectError(await fetch(url('/v1/stream/h/offsets2?offset=')), 400)
    await expectError(await fetch(url('/v1/stream/h/offsets2?offset=-1&offset=now')), 400)
    await expectError(await fetch(url('/v1/stream/h/offsets2?live=long-poll')), 400)
    await expectError(await fetch(url('/v1/stream/h/offsets2?live=sse')), 400)
  })

  test.each([
    '/v1/stream/h/a/../b',
    '/v1/stream/h/a/%2e%2e/b',
    '/v1/stream/h/a/%2E%2E/b',
    '/v1/stream/h/./b',
    '/v1/stream/h/a%2fb',
    '/v1/stream/h/a%2Fb',
    '/v1/stream/h/a%5cb',
    '/v1/stream/h/a\\b',
    '/v1/stream/h/a%00b',
    '/v1/stream/h/a%0ab',
    '/v1/stream/h//b',
    '/v1/stream/h/%zz',
    '/v1/stream/h/%62', // b, spelled another way
    '/v1/stream/%68/b',
  ])('path trick %j: 400 and no stream created', async (target) => {
    const res = await raw('PUT', target, { 'content-type': 'text/plain' }, 'x')
    expect(res.status).toBe(400)
    expect(res.headers['content-type']).toBe('application/json')
    expect(JSON.parse(res.body).error.code).toBe('BAD_REQUEST')
    expect((await fetch(url('/v1/stream/h/b'), { method: 'HEAD' })).status).toBe(404)
    expect((await fetch(url('/v1/stream/b'), { method: 'HEAD' })).status).toBe(404)
  })

  test('malformed producer headers: 400, nothing written', async () => {
    await put('/v1/stream/h/prod', 'text/plain')
    const base = { 'content-type': 'text/plain' }
    for (const headers of [
      { 'producer-id': 'p' },
      { 'producer-id': 'p', 'producer-epoch': '0' },
      { 'producer-id': '', 'producer-epoch': '0', 'producer-seq': '0' },
      { 'producer-id': 'p', 'producer-epoch': '-1', 'producer-seq': '0' },
      { 'producer-id': 'p', 'producer-epoch': '0', 'producer-seq': '1.5' },
      { 'producer-id': 'p', 'producer-epoch': '9007199254740992', 'producer-seq': '0' },
      { 'producer-id': 'p'.repeat(257), 'producer-epoch': '0', 'producer-seq': '0' },
    ]) {
      await expectError(await post('/v1/stream/h/prod', { ...base, ...headers }, 'x'), 400)
    }
    expect(await readAll('/v1/stream/h/prod')).toBe('')
  })

  test('bad TTL, expiry and fork headers on create: 400, nothing created', async () => {
    for (const headers of [
      { 'stream-ttl': '-1' },
      { 'stream-ttl': '1.5' },
      { 'stream-ttl': '01' },
      { 'stream-expires-at': 'tomorrow' },
      { 'stream-ttl': '10', 'stream-expires-at': '2030-01-01T00:00:00Z' },
      { 'stream-forked-from': '/v1/stream/nope', 'stream-fork-offset': 'x' },
      { 'stream-fork-sub-offset': '1' },
      { 'stream-forked-from': '/v1/stream/h/../h/source' },
      { 'stream-forked-from': '/v1/stream/h/%73ource' },
      { 'stream-forked-from': 'h/source' },
    ]) {
      const res = await fetch(url('/v1/stream/h/create'), {
        method: 'PUT',
        headers: { 'content-type': 'text/plain', ...headers },
      })
      await expectError(res, 400)
    }
    expect((await fetch(url('/v1/stream/h/create'), { method: 'HEAD' })).status).toBe(404)
  })

  test('admin API: malformed JSON 400, wrong content type 415, unknown endpoint 404', async () => {
    const topic = url('/admin/topics/hostile')
    await expectError(
      await fetch(topic, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: '{"numPartitions":',
      }),
      400,
    )
    await expectError(
      await fetch(topic, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: '[1]',
      }),
      400,
    )
    await expectError(
      await fetch(topic, {
        method: 'PUT',
        headers: { 'content-type': 'text/plain' },
        body: '{"numPartitions":1}',
      }),
      415,
    )
    await expectError(
      await fetch(topic, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: '{"numPartitions":"3"}',
      }),
      400,
    )
    await expectError(await fetch(url('/admin/nothing')), 404)
    expect((await fetch(topic)).status).toBe(404)
  })

  test.each([
    {
      what: 'no Host',
      bytes: 'GET /v1/stream/h/x HTTP/1.1\r\nconnection: close\r\n\r\n',
      status: 400,
    },
    { what: 'no Host, HTTP/1.0', bytes: 'GET /v1/stream/h/x HTTP/1.0\r\n\r\n', status: 400 },
    {
      what: 'an Expect other than 100-continue',
      bytes: 'GET /v1/stream/h/x HTTP/1.1\r\nhost: x\r\nexpect: foo\r\nconnection: close\r\n\r\n',
      status: 417,
    },
    {
      what: 'CONNECT',
      bytes: 'CONNECT 127.0.0.1:1 HTTP/1.1\r\nhost: 127.0.0.1:1\r\n\r\n',
      status: 405,
    },
  ])(
    'refused by Node before the app, $what: $status with the JSON error body',
    async ({ bytes, status }) => {
      const res = await rawSocket(bytes)
      expect(res.startsWith(`HTTP/1.1 ${status} `)).toBe(true)
      expect(res).toMatch(/content-type: application\/json/i)
      const body = JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4)) as { error: { code: string } }
      expect(body.error.code.length).toBeGreaterThan(0)
    },
  )

  test('encoded bodies the server cannot decode are refused, not stored as their bytes', async () => {
    await put('/v1/stream/h/enc', 'text/plain', 'a')
    const chunked = await rawSocket(
      'POST /v1/stream/h/enc HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\n' +
        'transfer-encoding: gzip, chunked\r\nconnection: close\r\n\r\n1\r\nb\r\n0\r\n\r\n',
    )
    expect(chunked.startsWith('HTTP/1.1 501 ')).toBe(true)
    const gzipped = await post(
      '/v1/stream/h/enc',
      { 'content-type': 'text/plain', 'content-encoding': 'gzip' },
      'b',
    )
    await expectError(gzipped, 415, 'UNSUPPORTED_ENCODING')
    expect(await readAll('/v1/stream/h/enc')).toBe('a')
  })

  test('a client hanging up mid-body writes nothing and is not logged as a server failure', async () => {
    await put('/v1/stream/h/cut', 'text/plain', 'a')
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      await rawSocket(
        'POST /v1/stream/h/cut HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\nbcd',
        100,
      )
      await new Promise((r) => setTimeout(r, 100))
      expect(errors).not.toHaveBeenCalled()
    } finally {
      errors.mockRestore()
    }
    expect(await readAll('/v1/stream/h/cut')).toBe('a')
  })

  test('unsupported methods get 405, and the server is still up after all of this', async () => {
    await expectError(await fetch(url('/v1/stream/h/text'), { method: 'PATCH', body: 'x' }), 405)
    await put('/v1/stream/h/alive', 'text/plain', 'still here')
    expect(await readAll('/v1/stream/h/alive')).toBe('still here')
  })
})
