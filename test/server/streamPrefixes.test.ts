import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { InvalidConfigError } from '../../src/log/errors.ts'
import { createApp, memoryServerStorage } from '../../src/server/index.ts'
import { serve } from '../../src/server/node/index.ts'
import { startCli } from './support/cliProcess.ts'
import { startTestServer, type TestServer } from './support/testServer.ts'

// The Durable Streams protocol leaves where streams live to the server; its reference server is
// mounted on a route (`route /v1/stream/* { durable_streams }` in its Caddyfile) and the
// conformance suite creates every stream under /v1/stream/. A path outside the server's stream
// routes is no stream at all: 404, and nothing created.

const json = { 'content-type': 'application/json' }
const methods = ['PUT', 'POST', 'GET', 'HEAD', 'DELETE'] as const

const call = (url: string, method: string) =>
  fetch(url, {
    method,
    headers: json,
    ...(method === 'PUT' || method === 'POST' ? { body: '[1]' } : {}),
  })

/** A 404 with the JSON error body (HEAD: its headers only, as HTTP has no body there). */
async function expectNotFound(res: Response, method: string): Promise<void> {
  expect(res.status).toBe(404)
  expect(res.headers.get('content-type')).toBe('application/json')
  if (method === 'HEAD') return
  const body = (await res.json()) as { error: { code: string; message: string } }
  expect(body.error.code).toBe('NOT_FOUND')
  expect(body.error.message).toMatch(/\/v1\/stream\/|\/streams\//)
}

/** A stream's whole life over HTTP at `url`: create, append, read, head, delete. */
async function streamLifecycle(url: string): Promise<void> {
  expect((await fetch(url, { method: 'PUT', headers: json })).status).toBe(201)
  const appended = await fetch(url, { method: 'POST', headers: json, body: '[{"n":1},{"n":2}]' })
  expect(appended.status).toBe(204)
  expect(await (await fetch(`${url}?offset=-1`)).json()).toEqual([{ n: 1 }, { n: 2 }])
  expect((await fetch(url, { method: 'HEAD' })).status).toBe(200)
  expect((await fetch(url, { method: 'DELETE' })).status).toBe(204)
  expect((await fetch(url, { method: 'HEAD' })).status).toBe(404)
}

describe('the default prefix, /v1/stream/', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(() => server.stop())

  const outside = ['/', '/orders', '/v1/streams/orders', '/v1/stream', '/v1/stream/', '/v2/x/y']
  test.each(outside.flatMap((path) => methods.map((method) => [method, path] as const)))(
    '%s %s: 404 with the JSON error body, and no stream created',
    async (method, path) => {
      await expectNotFound(await call(`${server.url}${path}`, method), method)
      expect((await server.engine.head(path)).kind).toBe('notFound')
    },
  )

  test('streams work under it', async () => {
    await streamLifecycle(`${server.url}/v1/stream/orders`)
    await streamLifecycle(`${server.url}/v1/stream/tenant/a/orders`)
  })

  test('a CORS preflight anywhere passes, so a browser sees the 404 itself', async () => {
    const res = await fetch(`${server.url}/orders`, { method: 'OPTIONS' })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-methods')).toContain('PUT')
  })

  test('topic routes are unchanged: partitions read and append, PUT on one is 405', async () => {
    const created = await fetch(`${server.url}/admin/topics/prefixed`, {
      method: 'PUT',
      headers: json,
      body: '{"numPartitions":1}',
    })
    expect(created.status).toBe(201)
    const partition = `${server.url}/topics/prefixed/0`
    const appended = await fetch(partition, {
      method: 'POST',
      headers: json,
      body: '[{"key":"k","value":1}]',
    })
    expect(appended.status).toBe(204)
    const read = (await (await fetch(`${partition}?offset=-1`)).json()) as { value: unknown }[]
    expect(read.map((r) => r.value)).toEqual([1])
    expect((await fetch(partition, { method: 'PUT', headers: json })).status).toBe(405)
  })
})

describe('configured prefixes', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ streamPrefixes: ['/streams/', '/tenants/acme/'] })
  })
  afterAll(() => server.stop())

  test('streams work under each of them', async () => {
    await streamLifecycle(`${server.url}/streams/orders`)
    await streamLifecycle(`${server.url}/tenants/acme/orders`)
  })

  test.each(methods)('%s under the default prefix, now not configured: 404', async (method) => {
    await expectNotFound(await call(`${server.url}/v1/stream/orders`, method), method)
    await expectNotFound(await call(`${server.url}/tenants/other/orders`, method), method)
    expect((await server.engine.head('/v1/stream/orders')).kind).toBe('notFound')
  })

  test('no prefix at all serves topics only', async () => {
    const { app } = createApp({ storage: memoryServerStorage(), streamPrefixes: [] })
    const res = await app.request('/v1/stream/orders', { method: 'PUT', headers: json })
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /topics only/,
    )
    const created = await app.request('/admin/topics/t', { method: 'PUT', headers: json })
    expect(created.status).toBe(201)
  })
})

describe('bad prefixes are refused before anything starts', () => {
  test.each([
    ['not an array', '/streams/'],
    ['no slashes', ['streams']],
    ['no trailing slash', ['/streams']],
    ['no leading slash', ['streams/']],
    ['not a string', [42]],
    ['the root, which holds /topics/', ['/']],
    ['the topics', ['/topics/']],
    ['inside the topics', ['/topics/mine/']],
    ['the admin API', ['/admin/']],
    ['the tickets', ['/auth/']],
    ['a dot segment', ['/a/../b/']],
    ['an empty segment', ['/a//b/']],
    ['percent-encoded letters', ['/%61/']],
    ['one good, one bad', ['/streams/', '/topics/']],
  ])('%s: InvalidConfigError', async (_what, streamPrefixes) => {
    const options = { storage: memoryServerStorage(), streamPrefixes } as never
    expect(() => createApp(options)).toThrow(InvalidConfigError)
    // serve() refuses before it listens: no port is taken, no server is left to close.
    await expect(serve({ ...(options as object), port: 0 })).rejects.toThrow(InvalidConfigError)
  })

  test('the message names the prefix and what is wrong', () => {
    const create = (prefix: string) => () =>
      createApp({ storage: memoryServerStorage(), streamPrefixes: [prefix] })
    expect(create('/streams')).toThrow(/"\/streams" must be a path that starts and ends with \//)
    expect(create('/')).toThrow(/"\/" overlaps the server's \/topics\/ routes/)
  })
})

// Each test starts the CLI as its own process: seconds on a loaded machine.
describe('duality serve --stream-prefix', () => {
  test('streams live under each given prefix, and nowhere else', async () => {
    const cli = await startCli([
      '--memory',
      '--stream-prefix',
      '/streams/',
      '--stream-prefix',
      '/more/',
    ])
    try {
      await streamLifecycle(`${cli.url}/streams/orders`)
      await streamLifecycle(`${cli.url}/more/orders`)
      for (const method of methods) {
        await expectNotFound(await call(`${cli.url}/v1/stream/orders`, method), method)
        await expectNotFound(await call(`${cli.url}/orders`, method), method)
      }
    } finally {
      cli.child.kill('SIGTERM')
      await cli.exited
    }
  }, 60_000)

  test('without the flag, /v1/stream/', async () => {
    const cli = await startCli(['--memory'])
    try {
      await streamLifecycle(`${cli.url}/v1/stream/orders`)
      await expectNotFound(await call(`${cli.url}/orders`, 'PUT'), 'PUT')
    } finally {
      cli.child.kill('SIGTERM')
      await cli.exited
    }
  }, 60_000)

  test('a bad prefix: exit 1 with a message naming the flag, before listening', async () => {
    await expect(startCli(['--memory', '--stream-prefix', '/topics/'])).rejects.toThrow(
      /exited \(1\) before listening:\nduality: --stream-prefix: Stream prefix "\/topics\/" overlaps/,
    )
    await expect(startCli(['--memory', '--stream-prefix', 'streams'])).rejects.toThrow(
      /--stream-prefix: Stream prefix "streams" must be a path that starts and ends with \//,
    )
  }, 60_000)
})
