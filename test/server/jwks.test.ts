import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { jwtAuthenticator } from '../../src/server/auth/index.ts'
import {
  newSigningKey,
  signToken,
  startIdentityProvider,
  type IdentityProvider,
  type SigningKey,
} from './support/identityProvider.ts'
import { startTestServer, type TestServer } from './support/testServer.ts'

let idp: IdentityProvider
let rsa: SigningKey
let ec: SigningKey
let outsider: SigningKey

beforeAll(async () => {
  ;[rsa, ec, outsider] = await Promise.all([
    newSigningKey('rsa-1', 'RS256'),
    newSigningKey('ec-1', 'ES256'),
    newSigningKey('rsa-1', 'RS256'), // a published kid, another key pair: a forgery
  ])
  idp = await startIdentityProvider([rsa, ec])
})
afterAll(() => idp.stop())

describe('jwtAuthenticator with a JWKS URL', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({
      authenticate: jwtAuthenticator({
        jwksUrl: idp.jwksUrl,
        issuer: 'https://idp.example',
        audience: 'duality',
      }),
    })
  })
  afterAll(() => server.stop())

  const ok = { sub: 'ada', iss: 'https://idp.example', aud: 'duality' }
  const create = (path: string, token: string) =>
    fetch(`${server.url}${path}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    })

  test('tokens signed by any published key (RSA or EC) are accepted', async () => {
    expect((await create('/v1/stream/jwks/rsa', await signToken(rsa, ok))).status).toBe(201)
    expect((await create('/v1/stream/jwks/ec', await signToken(ec, ok))).status).toBe(201)
    expect(idp.fetches()).toBeGreaterThan(0)
  })

  test('a forged key, another issuer or audience, an expired token or no subject: 401, nothing created', async () => {
    const refused = [
      await signToken(outsider, ok),
      await signToken(rsa, { ...ok, iss: 'https://evil.example' }),
      await signToken(rsa, { ...ok, aud: 'another-app' }),
      await signToken(rsa, { ...ok, exp: '-1m' }),
      await signToken(rsa, { iss: ok.iss, aud: ok.aud }),
    ]
    for (const [i, token] of refused.entries()) {
      const res = await create(`/v1/stream/jwks/refused-${i}`, token)
      expect(res.status).toBe(401)
      expect((await res.json()).error.code).toBe('UNAUTHORIZED')
    }
    const valid = await signToken(rsa, ok)
    for (const i of refused.keys()) {
      const head = await fetch(`${server.url}/v1/stream/jwks/refused-${i}`, {
        method: 'HEAD',
        headers: { authorization: `Bearer ${valid}` },
      })
      expect(head.status).toBe(404)
    }
  })
})

describe('jwtAuthenticator with a local key set', () => {
  test('verifies against the given keys without fetching them', async () => {
    const before = idp.fetches()
    const authenticate = jwtAuthenticator({ jwks: { keys: [ec.jwk] } })
    const principal = async (token: string) =>
      authenticate(
        new Request('http://localhost/s', { headers: { authorization: `Bearer ${token}` } }),
      )
    expect(await principal(await signToken(ec, { sub: 'grace' }))).toMatchObject({ id: 'grace' })
    expect(await principal(await signToken(rsa, { sub: 'grace' }))).toBeNull() // not in the set
    expect(idp.fetches()).toBe(before)
  })

  test('refuses to be built with no key source, or with two', () => {
    expect(() => jwtAuthenticator({})).toThrow(/exactly one/)
    expect(() => jwtAuthenticator({ secret: 'x'.repeat(32), jwksUrl: idp.jwksUrl })).toThrow(
      /exactly one/,
    )
  })
})
