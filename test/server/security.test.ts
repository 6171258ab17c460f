import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { jwtAuthenticator } from '../../src/server/auth/index.ts'
import type { Authorize } from '../../src/server/index.ts'
import { startTestServer, type TestServer } from './support/testServer.ts'

const secret = 'test-secret-of-at-least-32-bytes!!'
const token = (sub: string | undefined, opts: { key?: string; expiresIn?: string } = {}) => {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuedAt()
  if (sub !== undefined) jwt.setSubject(sub)
  jwt.setExpirationTime(opts.expiresIn ?? '1h')
  return jwt.sign(new TextEncoder().encode(opts.key ?? secret))
}

// alice owns topic "orders" and every stream under /v1/stream/alice/; bob may only read "orders".
const authorize: Authorize = (principal, resource, action) =>
  principal.id === 'alice'
    ? resource === 'orders' || resource.startsWith('/v1/stream/alice/')
    : principal.id === 'bob' && resource === 'orders' && action === 'read'

let server: TestServer
let alice: string
let bob: string
beforeAll(async () => {
  server = await startTestServer({
    authenticate: jwtAuthenticator({ secret }),
    authorize,
    allowedOrigins: ['https://app.example'],
    rateLimit: { burst: 1000, perSecond: 1000 },
    maxReadBytes: 4,
  })
  alice = `Bearer ${await token('alice')}`
  bob = `Bearer ${await token('bob')}`
  const res = await fetch(`${server.url}/admin/topics/orders`, {
    method: 'PUT',
    headers: { authorization: alice, 'content-type': 'application/json' },
    body: '{}',
  })
  expect(res.status).toBe(201)
})
afterAll(() => server.stop())

const call = (path: string, init: RequestInit & { headers?: Record<string, string> } = {}) =>
  fetch(`${server.url}${path}`, init)
const appendOrder = (authorization: string | undefined, extra: Record<string, string> = {}) =>
  call('/topics/orders/0', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization && { authorization }),
      ...extra,
    },
    body: JSON.stringify({ key: 'k', value: 1 }),
  })
const orderCount = async () =>
  (await (await call('/topics/orders/0', { headers: { authorization: alice } })).json()).length

async function expectError(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status)
  expect((await res.json()).error.code).toBe(code)
}

describe('authentication and authorization', () => {
  test('without a valid token nothing is readable or writable: 401', async () => {
    const before = await orderCount()
    const forged = `Bearer ${await token('alice', { key: 'another-secret-of-at-least-32-bytes' })}`
    const expired = `Bearer ${await token('alice', { expiresIn: '-1m' })}`
    const noSubject = `Bearer ${await token(undefined)}`
    for (const authorization of [
      undefined,
      forged,
      expired,
      noSubject,
      'Bearer nonsense',
      alice.slice(7),
    ]) {
      const headers: Record<string, string> = authorization ? { authorization } : {}
      const post = await appendOrder(authorization)
      await expectError(post, 401, 'UNAUTHORIZED')
      expect(post.headers.get('www-authenticate')).toBe('Bearer')
      await expectError(await call('/topics/orders/0', { headers }), 401, 'UNAUTHORIZED')
      expect((await call('/topics/orders/0', { method: 'HEAD', headers })).status).toBe(401)
      await expectError(await call('/admin/topics/orders', { headers }), 401, 'UNAUTHORIZED')
      await expectError(
        await call('/v1/stream/alice/s', {
          method: 'PUT',
          headers: { ...headers, 'content-type': 'text/plain' },
        }),
        401,
        'UNAUTHORIZED',
      )
    }
    expect(await orderCount()).toBe(before)
    expect(
      (await call('/v1/stream/alice/s', { method: 'HEAD', headers: { authorization: alice } }))
        .status,
    ).toBe(404)
  })

  test('authorize decides per principal, resource and action: 403', async () => {
    expect((await appendOrder(alice)).status).toBe(204)
    const before = await orderCount()
    await expectError(await appendOrder(bob), 403, 'FORBIDDEN')
    expect((await call('/topics/orders/0', { headers: { authorization: bob } })).status).toBe(200)
    await expectError(
      await call('/admin/topics/orders', { method: 'DELETE', headers: { authorization: bob } }),
      403,
      'FORBIDDEN',
    )
    await expectError(
      await call('/v1/stream/bob/s', {
        method: 'PUT',
        headers: { authorization: bob, 'content-type': 'text/plain' },
      }),
      403,
      'FORBIDDEN',
    )
    expect(
      (
        await call('/v1/stream/alice/s', {
          method: 'PUT',
          headers: { authorization: alice, 'content-type': 'text/plain' },
        })
      ).status,
    ).toBe(201)
    expect(await orderCount()).toBe(before)
  })

  test('a percent-encoded spelling of a path cannot route around authorize: 400', async () => {
    for (const [method, path] of [
      ['DELETE', '/%61dmin/topics/orders'],
      ['GET', '/admin/%74opics/orders'],
      ['PUT', '/adm%69n/topics/orders2'],
      ['POST', '/topics/%6frders/0'],
    ] as const) {
      const res = await call(path, {
        method,
        headers: { authorization: bob, 'content-type': 'application/json' },
        ...(method === 'PUT' || method === 'POST' ? { body: '{}' } : {}),
      })
      await expectError(res, 400, 'BAD_REQUEST')
    }
    const orders = await call('/admin/topics/orders', { headers: { authorization: alice } })
    expect(orders.status).toBe(200)
  })

  test('forking reads the source: a source the principal may not read is refused, 403', async () => {
    const fork = (source: string) =>
      call('/v1/stream/alice/fork', {
        method: 'PUT',
        headers: {
          authorization: alice,
          'content-type': 'text/plain',
          'stream-forked-from': source,
        },
      })
    // Refused before the source is looked up: the answer says nothing of whether it exists.
    await expectError(await fork('/v1/stream/bob/secret'), 403, 'FORBIDDEN')
    expect(
      (await call('/v1/stream/alice/fork', { method: 'HEAD', headers: { authorization: alice } }))
        .status,
    ).toBe(404)
    await expectError(await fork('/v1/stream/%61lice/s'), 400, 'BAD_REQUEST') // one spelling: /v1/stream/alice/s
    await expectError(await fork('/topics/%E0%A4%A/0'), 400, 'BAD_REQUEST') // not 500
    await expectError(await fork('/v1/stream/alice/../bob/secret'), 400, 'BAD_REQUEST')
  })

  test("a producer id is bound to its principal: another principal's is refused", async () => {
    const producer = (id: string) => ({
      'producer-id': id,
      'producer-epoch': '0',
      'producer-seq': '0',
    })
    const before = await orderCount()
    await expectError(await appendOrder(alice, producer('bob')), 403, 'FORBIDDEN')
    await expectError(await appendOrder(alice, producer('bob/writer')), 403, 'FORBIDDEN')
    await expectError(await appendOrder(alice, producer('aliceX')), 403, 'FORBIDDEN')
    expect(await orderCount()).toBe(before)
    expect((await appendOrder(alice, producer('alice/writer'))).status).toBe(200)
    expect((await appendOrder(alice, producer('alice/writer'))).status).toBe(204)
  })

  test('reads of authenticated data are cached privately only', async () => {
    await appendOrder(alice)
    const chunk = await call('/topics/orders/0?offset=-1', { headers: { authorization: alice } })
    expect(chunk.headers.get('stream-up-to-date')).toBeNull() // a full chunk below the tail
    expect(chunk.headers.get('cache-control')).toMatch(/^private,/)
    expect(chunk.headers.get('vary')).toMatch(/Authorization/)
  })
})

describe('read tickets (for EventSource, which cannot send headers)', () => {
  const issue = async (authorization?: string) =>
    call('/auth/tickets', { method: 'POST', headers: authorization ? { authorization } : {} })

  test('an authenticated client gets a ticket that reads, as its principal, until it expires', async () => {
    await expectError(await issue(), 401, 'UNAUTHORIZED')
    const res = await issue(bob)
    expect(res.status).toBe(201)
    const { ticket, expiresAt } = (await res.json()) as { ticket: string; expiresAt: number }
    expect(expiresAt).toBe(server.clock.now + 60_000)
    const read = await call(`/topics/orders/0?offset=-1&ticket=${ticket}`)
    expect(read.status).toBe(200)
    const sse = await call(`/topics/orders/0?offset=now&live=sse&ticket=${ticket}`)
    expect(sse.headers.get('content-type')).toBe('text/event-stream')
    await sse.body!.cancel()
    // Only reads, and only what its principal may read: bob cannot append, with or without it.
    await expectError(
      await call(`/topics/orders/0?ticket=${ticket}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"key":"k","value":1}',
      }),
      401,
      'UNAUTHORIZED',
    )
    await expectError(await call(`/v1/stream/alice/s?ticket=${ticket}`), 403, 'FORBIDDEN')
    await expectError(await call('/topics/orders/0?ticket=forged'), 401, 'UNAUTHORIZED')
    server.clock.now += 60_000
    await expectError(await call(`/topics/orders/0?ticket=${ticket}`), 401, 'UNAUTHORIZED')
  })

  test('a principal holds at most 100 live tickets: the 101st retires its oldest', async () => {
    const tickets: string[] = []
    for (let i = 0; i < 101; i++)
      tickets.push(((await (await issue(bob)).json()) as { ticket: string }).ticket)
    await expectError(await call(`/topics/orders/0?ticket=${tickets[0]}`), 401, 'UNAUTHORIZED')
    expect((await call(`/topics/orders/0?ticket=${tickets[1]}`)).status).toBe(200)
    expect((await call(`/topics/orders/0?ticket=${tickets[100]}`)).status).toBe(200)
    // Another principal's tickets are not touched by bob's.
    const alices = ((await (await issue(alice)).json()) as { ticket: string }).ticket
    expect((await call(`/v1/stream/alice/s?ticket=${alices}`, { method: 'HEAD' })).status).toBe(200)
  })
})

describe('origins and preflights', () => {
  test('an Origin outside the allowlist gets 403; an allowed one is echoed for CORS', async () => {
    const evil = await call('/topics/orders/0', {
      headers: { authorization: alice, origin: 'https://evil.example' },
    })
    await expectError(evil, 403, 'FORBIDDEN')
    const good = await call('/topics/orders/0', {
      headers: { authorization: alice, origin: 'https://app.example' },
    })
    expect(good.status).toBe(200)
    expect(good.headers.get('access-control-allow-origin')).toBe('https://app.example')
  })

  test('CORS preflights need no token, on streams and on the admin API', async () => {
    for (const [path, method] of [
      ['/topics/orders/0', 'POST'],
      ['/admin/topics/orders', 'PUT'],
    ]) {
      const res = await call(path!, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': method! },
      })
      expect(res.status).toBe(204)
      expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example')
      expect(res.headers.get('access-control-allow-headers')).toMatch(/authorization/)
    }
  })
})

describe('rate limits', () => {
  test('per principal: 429 with Retry-After once the bucket is empty, refilled over time', async () => {
    const limited = await startTestServer({
      authenticate: jwtAuthenticator({ secret }),
      rateLimit: { burst: 3, perSecond: 1 },
    })
    try {
      const get = (authorization: string) =>
        fetch(`${limited.url}/v1/stream/nothing`, { headers: { authorization } })
      for (let i = 0; i < 3; i++) expect((await get(alice)).status).toBe(404)
      const refused = await get(alice)
      await expectError(refused, 429, 'RATE_LIMITED')
      expect(refused.headers.get('retry-after')).toBe('1')
      expect((await get(bob)).status).toBe(404) // bob has his own bucket
      limited.clock.now += 1_000
      expect((await get(alice)).status).toBe(404)
      await expectError(await get(alice), 429, 'RATE_LIMITED')
    } finally {
      await limited.stop()
    }
  })
})
