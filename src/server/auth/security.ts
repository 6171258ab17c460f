/** Who made a request, as the `authenticate` hook established it. */
export interface Principal {
  /** Stable id (a JWT's `sub`): rate limits and producer ids are bound to it. */
  id: string
  claims?: Record<string, unknown>
}

export type Action = 'read' | 'append' | 'admin'

/** Returns the principal of a request, or null when it carries no valid credentials (401). */
export type Authenticate = (request: Request) => Principal | null | Promise<Principal | null>

/**
 * Whether `principal` may do `action` on `resource`: the topic name for `/topics/<topic>/...` and
 * the topic admin API, the stream path for any other stream. False answers 403.
 */
export type Authorize = (
  principal: Principal,
  resource: string,
  action: Action,
) => boolean | Promise<boolean>

export interface SecurityOptions {
  /** With this set, every request but a CORS preflight needs valid credentials. */
  authenticate?: Authenticate
  /** Default: any authenticated principal may do anything. */
  authorize?: Authorize
  /** Browser origins allowed to call the server; requests with another `Origin` get 403. Default: any. */
  allowedOrigins?: readonly string[]
  /** Per principal (per client address without authentication): a token bucket. Default: none. */
  rateLimit?: { burst: number; perSecond: number }
  /** How long a read ticket (`POST /auth/tickets`, then `?ticket=`) is valid. Default 60 s. */
  ticketTtlMs?: number
}

/** The action a request performs, for `authorize`. */
export function actionOf(method: string, path: string): Action {
  if (path.startsWith('/admin/')) return method === 'GET' ? 'read' : 'admin'
  if (method === 'GET' || method === 'HEAD') return 'read'
  return method === 'POST' ? 'append' : 'admin'
}

/** The resource a request is about, for `authorize`: a topic name, or a stream path. */
export function resourceOf(path: string): string {
  const topic = /^\/(?:topics|admin\/topics)\/([^/]+)/.exec(path)
  return topic ? decodeURIComponent(topic[1]!) : path
}

/**
 * With authentication on, a producer id belongs to one principal: it must be the principal's id or
 * start with `<id>/`, so no client can fence or spoof another's idempotent producer.
 */
export function ownsProducer(principal: Principal, producerId: string): boolean {
  return producerId === principal.id || producerId.startsWith(`${principal.id}/`)
}
