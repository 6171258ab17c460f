import { getRequestListener } from '@hono/node-server'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createApp, memoryServerStorage } from '../../src/server/index.ts'
import { serve, type RunningServer } from '../../src/server/node/index.ts'
import { directAppend } from '../../src/server/node/directAppend.ts'

// Appends skip hono when no security hook is set (node/directAppend.ts). Each request here goes
// to two servers with the same history: one that tries the direct path first (and counts the
// requests it hands to hono), one on hono alone. Every answer must be the same bytes, Date aside.
const maxBodyBytes = 4096
let fellBack = 0
const servers: Server[] = []
let direct: number
let honoOnly: number

async function listen(handler: Parameters<typeof createServer>[1]): Promise<number> {
  const server = createServer(handler)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

beforeAll(async () => {
  const a = createApp({ storage: memoryServerStorage(), maxBodyBytes })
  const viaHono = getRequestListener(a.app.fetch)
  const settings = { engine: a.engine, streamPrefixes: ['/v1/stream/'], maxBodyBytes }
  direct = await listen((req, res) => {
    if (directAppend(settings, req, res)) return
    fellBack++
    void viaHono(req, res)
  })
  const b = createApp({ storage: memoryServerStorage(), maxBodyBytes })
  honoOnly = await listen(getRequestListener(b.app.fetch))
})
afterAll(async () => {
  for (const server of servers) await new Promise((resolve) => server.close(resolve))
})

/** The raw response to raw request bytes (the connection closes after it), without its Date. */
function exchange(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = ''
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes))
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => (got += chunk))
    socket.on('close', () => resolve(got.replace(/\r\nDate: [^\r]*/i, '')))
    socket.on('error', reject)
  })
}

function request(method: string, target: string, headers: string[], body = ''): string {
  const length = method === 'POST' || body ? [`content-length: ${Buffer.byteLength(body)}`] : []
  return [`${method} ${target} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close', ...length]
    .concat(headers, ['', body])
    .join('\r\n')
}

/** Sends to both servers; returns the (identical) answer. */
async function both(bytes: string, expectDirect: boolean): Promise<string> {
  const before = fellBack
  const a = await exchange(direct, bytes)
  const b = await exchange(honoOnly, bytes)
  expect(a).toBe(b)
  expect(fellBack - before).toBe(expectDirect ? 0 : 1)
  return a
}

const json = 'content-type: application/json'
const producer = (seq: number, epoch = 0, id = 'p') => [
  `producer-id: ${id}`,
  `producer-epoch: ${epoch}`,
  `producer-seq: ${seq}`,
]

describe('an append through node:http directly and through hono', () => {
  beforeAll(async () => {
    for (const path of ['/v1/stream/d', '/v1/stream/closing', '/v1/stream/text']) {
      const type = path.endsWith('text') ? 'content-type: text/plain' : json
      await both(request('PUT', path, [type]), false) // PUT is hono's alone
    }
  })

  test.each([
    ['a new idempotent batch: 200', [json, ...producer(0)], '[{"a":1},{"b":[1, 2]}]', 200],
    ['its retry: 204 duplicate', [json, ...producer(0)], '[{"a":1},{"b":[1, 2]}]', 204],
    ['a gap: 409', [json, ...producer(5)], '[1]', 409],
    ['a new epoch not at 0: 400', [json, ...producer(3, 1)], '[1]', 400],
    ['a new epoch: 200', [json, ...producer(0, 1)], '[1]', 200],
    ['a stale epoch: 403', [json, ...producer(1, 0)], '[1]', 403],
    ['headers not together: 400', [json, 'producer-id: q'], '[1]', 400],
    ['malformed JSON: 400 with a JSON body', [json], '[{"a":1},]', 400],
    ['an empty batch: 400', [json], '[]', 400],
    ['one value, spaced: 204', [json], '{ "x" : [ 1 ] }', 204],
    ['no Content-Type: 400', [], '[1]', 400],
    ['another Content-Type: 409', ['content-type: text/plain'], '[1]', 409],
    ['an empty body: 400', [json], '', 400],
    ['Stream-Seq in order: 204', [json, 'stream-seq: 0002'], '[1]', 204],
    ['Stream-Seq behind: 409', [json, 'stream-seq: 0001'], '[1]', 409],
  ])('%s', async (_, headers, body, status) => {
    const answer = await both(request('POST', '/v1/stream/d', headers, body), true)
    expect(answer.startsWith(`HTTP/1.1 ${status} `)).toBe(true)
    if (status >= 400) expect(answer).toMatch(/\r\n\r\n\{"error":\{"code":"[A-Z_]+","message":/)
  })

  test('no stream: 404; a close, and appends after it: 409 with the closed headers', async () => {
    expect(await both(request('POST', '/v1/stream/none', [json], '[1]'), true)).toMatch(
      /^HTTP\/1.1 404 /,
    )
    const closed = await both(request('POST', '/v1/stream/closing', ['stream-closed: true']), true)
    expect(closed).toMatch(/^HTTP\/1.1 204 [^]*stream-closed: true/)
    const after = await both(request('POST', '/v1/stream/closing', [json], '[1]'), true)
    expect(after).toMatch(/^HTTP\/1.1 409 /)
  })

  test('a plain stream stores the body as one record', async () => {
    expect(
      await both(request('POST', '/v1/stream/text', ['content-type: text/plain'], 'hi'), true),
    ).toMatch(/^HTTP\/1.1 204 /)
    const read = await both(request('GET', '/v1/stream/text?offset=-1', []), false)
    expect(read.endsWith('\r\n\r\nhi')).toBe(true)
  })

  test.each([
    ['two Content-Types', [json, json], '[1]'],
    ['a body over the limit', [json], `[${'1,'.repeat(maxBodyBytes)}1]`],
    ['a content coding', [json, 'content-encoding: gzip'], '[1]'],
    ['a path outside the stream prefixes', [json], '[1]', '/elsewhere'],
    ['a percent-encoded path', [json], '[1]', '/v1/stream/%7Ex'],
  ])(
    '%s goes through hono, with the same answer',
    async (_, headers, body, path = '/v1/stream/d') => {
      await both(request('POST', path, headers, body), false)
    },
  )

  test('a chunked body goes through hono, with the same answer', async () => {
    const chunked = `POST /v1/stream/d HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n${json}\r\ntransfer-encoding: chunked\r\n\r\n3\r\n[1]\r\n0\r\n\r\n`
    expect(await both(chunked, false)).toMatch(/^HTTP\/1.1 204 /)
  })

  test('the records written both ways read back the same', async () => {
    const read = await both(request('GET', '/v1/stream/d?offset=-1', []), false)
    expect(read.endsWith('\r\n\r\n[{"a":1},{"b":[1,2]},1,{"x":[1]},1,1]')).toBe(true)
  })
})

describe('serve()', () => {
  let running: RunningServer
  beforeAll(async () => {
    running = await serve({ port: 0, storage: memoryServerStorage(), cleanerIntervalMs: 0 })
  })
  afterAll(() => running.close())

  test('appends directly and answers as the hono path does', async () => {
    const port = running.port
    await exchange(port, request('PUT', '/v1/stream/s', [json]))
    const answer = await exchange(
      port,
      request('POST', '/v1/stream/s', [json, ...producer(0)], '[1,2]'),
    )
    const viaHono = await exchange(
      honoOnly,
      request('POST', '/v1/stream/d', [json, ...producer(0, 0, 'fresh')], '[1,2]'),
    )
    expect(answer.replace(/stream-next-offset: \S+/, '')).toBe(
      viaHono.replace(/stream-next-offset: \S+/, ''),
    )
  })
})
