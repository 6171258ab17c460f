import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface SigningKey {
  kid: string
  privateKey: CryptoKey
  jwk: JWK
}

export interface Claims {
  sub?: string
  iss?: string
  aud?: string
  /** jose's time span, e.g. '5m' or '-1m' (already expired). Default '5m'. */
  exp?: string
}

/** A key pair whose public half is a JWK with `kid` and `alg`, as an identity provider publishes it. */
export async function newSigningKey(kid: string, alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } }
}

export function signToken(key: SigningKey, claims: Claims): Promise<string> {
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: key.jwk.alg!, kid: key.kid })
    .setIssuedAt()
    .setExpirationTime(claims.exp ?? '5m')
  if (claims.sub !== undefined) jwt.setSubject(claims.sub)
  if (claims.iss !== undefined) jwt.setIssuer(claims.iss)
  if (claims.aud !== undefined) jwt.setAudience(claims.aud)
  return jwt.sign(key.privateKey)
}

export interface IdentityProvider {
  /** The JWKS URL, to give jwtAuthenticator({ jwksUrl }) or `duality serve --auth-jwks`. */
  jwksUrl: string
  /** The keys it publishes; change it to rotate. */
  published: SigningKey[]
  /** How many times the key set was fetched. */
  fetches(): number
  stop(): Promise<void>
}

/** An identity provider's key set served over real HTTP on a free loopback port. */
export async function startIdentityProvider(published: SigningKey[]): Promise<IdentityProvider> {
  let fetches = 0
  const provider = { published }
  const server = createServer((_req, res) => {
    fetches++
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ keys: provider.published.map((k) => k.jwk) }))
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as AddressInfo
  return Object.assign(provider, {
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    fetches: () => fetches,
    stop: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      }),
  })
}
