import { SignJWT } from 'jose'
import { afterEach, expect, test } from 'vitest'
import { httpTransport, memoryStorage, openLog, Sync } from '../../src/index.ts'
import { jwtAuthenticator } from '../../src/server/auth/index.ts'
import { until } from '../support/until.ts'
import { startTestServer } from './support/testServer.ts'

// Sync against a server that authenticates: the token provider is asked again after a 401, and
// producer ids carry the user's id, as the server requires.

const SECRET = 'a-test-secret-of-enough-length-for-hs256'
const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

const token = (sub: string, expiresIn: string | number) =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(SECRET))

test('an expired token is replaced after a 401, and sync goes on with the user as producer', async () => {
  const server = await startTestServer({
    authenticate: jwtAuthenticator({ secret: SECRET }),
    now: () => Date.now(),
  })
  closers.push(() => server.stop())
  const admin = await token('admin', '1h')
  const created = await fetch(`${server.url}/admin/topics/notes`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
    body: JSON.stringify({ numPartitions: 1 }),
  })
  expect(created.status).toBe(201)

  const asked: boolean[] = []
  const expired = await token('ada', Math.floor(Date.now() / 1000) - 60)
  const fresh = await token('ada', '1h')
  const transport = httpTransport({
    url: server.url,
    token: ({ refresh }) => {
      asked.push(refresh)
      // The cached token has expired; a refresh gets a new one (as from the app's auth).
      return refresh ? fresh : asked.filter((r) => r).length > 0 ? fresh : expired
    },
  })
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  const sync = new Sync(log, {
    transport,
    topics: [{ topic: 'notes' }],
    producerIdPrefix: 'ada',
  })
  await sync.start()
  closers.push(async () => {
    await sync.stop()
    await log.close()
  })
  await sync.producer().send({ topic: 'notes', messages: [{ key: 'n1', value: 'hello' }] })
  await until(async () => {
    const s = (await sync.status()).topics.notes!
    return s.pending === 0 && s.upToDate
  }, 10_000)
  expect(asked).toContain(true)
  const { records } = await httpTransport({ url: server.url, token: () => fresh }).read(
    'notes',
    0,
    'start',
    { live: false },
  )
  expect(records.map((r) => [r.key, r.value])).toEqual([['n1', '"hello"']])
  // Without a valid token nothing is readable.
  const anonymous = await fetch(`${server.url}/topics/notes/0?offset=-1`)
  expect(anonymous.status).toBe(401)
})
