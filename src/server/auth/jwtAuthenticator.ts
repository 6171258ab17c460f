import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet } from 'jose'
import type { Authenticate } from './security.ts'

export interface JwtAuthenticatorOptions {
  /** An HMAC secret (HS256/384/512). */
  secret?: string
  /** Or a JWKS URL (public keys, fetched and cached by jose). */
  jwksUrl?: string
  /** Or the key set itself. */
  jwks?: JSONWebKeySet
  /** Required `iss` and `aud`, when given. */
  issuer?: string
  audience?: string
}

/**
 * The default `authenticate`: a bearer JWT in `Authorization`, verified with jose (signature,
 * `exp` / `nbf`, and `iss` / `aud` when configured); the principal is its `sub`.
 */
export function jwtAuthenticator(options: JwtAuthenticatorOptions): Authenticate {
  const given = [options.secret, options.jwksUrl, options.jwks].filter((k) => k !== undefined)
  if (given.length !== 1)
    throw new Error('jwtAuthenticator needs exactly one of secret, jwksUrl, jwks')
  const verifyOptions = {
    ...(options.issuer !== undefined && { issuer: options.issuer }),
    ...(options.audience !== undefined && { audience: options.audience }),
  }
  const secret = options.secret === undefined ? undefined : new TextEncoder().encode(options.secret)
  const keys =
    options.jwksUrl !== undefined
      ? createRemoteJWKSet(new URL(options.jwksUrl))
      : options.jwks && createLocalJWKSet(options.jwks)
  return async (request) => {
    const match = /^Bearer\s+([\w-]+\.[\w-]+\.[\w-]+)$/i.exec(
      request.headers.get('authorization') ?? '',
    )
    if (!match) return null
    try {
      const { payload } = secret
        ? await jwtVerify(match[1]!, secret, {
            ...verifyOptions,
            algorithms: ['HS256', 'HS384', 'HS512'],
          })
        : await jwtVerify(match[1]!, keys!, verifyOptions)
      if (typeof payload.sub !== 'string' || payload.sub === '') return null
      return { id: payload.sub, claims: payload }
    } catch {
      return null
    }
  }
}
