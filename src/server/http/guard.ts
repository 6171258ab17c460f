import type { MiddlewareHandler } from 'hono'
import { checkPath } from './checkPath.ts'
import { errorResponse } from './errorResponse.ts'
import { H } from '../../protocol/index.ts'
import { RateLimiter } from '../auth/RateLimiter.ts'
import { actionOf, ownsProducer, resourceOf, type SecurityOptions } from '../auth/security.ts'
import { Tickets } from '../auth/Tickets.ts'

interface GuardEnv {
  Bindings: { incoming?: { socket?: { remoteAddress?: string } } }
}

/**
 * The security hooks as one middleware, in order: Origin allowlist (403), authentication (401;
 * CORS preflights are exempt), rate limit (429), authorization (403), producer-id ownership (403).
 * Also serves `POST /auth/tickets`.
 */
export function guard(options: SecurityOptions, now: () => number): MiddlewareHandler<GuardEnv> {
  const limiter =
    options.rateLimit && new RateLimiter(options.rateLimit.burst, options.rateLimit.perSecond, now)
  const tickets = new Tickets(options.ticketTtlMs ?? 60_000, now)
  return async (c, next) => {
    const origin = c.req.header('origin')
    if (
      options.allowedOrigins &&
      origin !== undefined &&
      !options.allowedOrigins.includes(origin)
    ) {
      return errorResponse(403, 'FORBIDDEN', `Origin ${origin} is not allowed`)
    }
    if (c.req.method === 'OPTIONS') return next() // CORS preflights carry no credentials
    const url = new URL(c.req.url)
    let principal = options.authenticate ? await options.authenticate(c.req.raw) : null
    const ticket = url.searchParams.get('ticket')
    const reading = c.req.method === 'GET' || c.req.method === 'HEAD'
    if (options.authenticate && !principal && ticket !== null && reading) {
      principal = tickets.redeem(ticket)
    }
    if (options.authenticate && !principal) {
      return errorResponse(
        401,
        'UNAUTHORIZED',
        'Send a valid bearer token: Authorization: Bearer <jwt>',
        {
          'www-authenticate': 'Bearer',
        },
      )
    }
    const wait = limiter?.take(
      principal?.id ?? c.env?.incoming?.socket?.remoteAddress ?? 'anonymous',
    )
    if (wait) {
      return errorResponse(429, 'RATE_LIMITED', `Too many requests: retry in ${wait} s`, {
        'retry-after': String(wait),
      })
    }
    if (!principal) return next()
    if (url.pathname === '/auth/tickets') {
      if (c.req.method !== 'POST')
        return errorResponse(405, 'METHOD_NOT_ALLOWED', 'POST a ticket request')
      return Response.json(tickets.issue(principal), { status: 201 })
    }
    const action = actionOf(c.req.method, url.pathname)
    const resource = resourceOf(url.pathname)
    if (options.authorize && !(await options.authorize(principal, resource, action))) {
      return errorResponse(403, 'FORBIDDEN', `${principal.id} may not ${action} ${resource}`)
    }
    // A fork shows its source's records: creating one reads the source.
    const source = c.req.method === 'PUT' ? c.req.header(H.forkedFrom) : undefined
    if (options.authorize && source !== undefined) {
      const problem = checkPath(source)
      if (problem) return errorResponse(400, 'BAD_REQUEST', `Stream-Forked-From: ${problem}`)
      const from = resourceOf(source)
      if (!(await options.authorize(principal, from, 'read'))) {
        return errorResponse(403, 'FORBIDDEN', `${principal.id} may not read ${from}`)
      }
    }
    const producerId = c.req.header(H.producerId)
    if (producerId !== undefined && producerId !== '' && !ownsProducer(principal, producerId)) {
      return errorResponse(
        403,
        'FORBIDDEN',
        `Producer-Id must be "${principal.id}" or start with "${principal.id}/"`,
      )
    }
    return next()
  }
}
