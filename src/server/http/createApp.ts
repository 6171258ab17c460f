import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { handleAppend } from './appendHandler.ts'
import { checkPath } from './checkPath.ts'
import { handleCreate } from './createHandler.ts'
import { errorResponse } from './errorResponse.ts'
import { topicsPrefix } from '../../protocol/index.ts'
import { guard } from './guard.ts'
import { handleHead, handleRead } from './readHandler.ts'
import type { SecurityOptions } from '../auth/security.ts'
import type { ServerStorage } from '../engines/embedded/ServerStorage.ts'
import { failureResponse } from './failureResponse.ts'
import { sharedResponseHeaders } from './sharedResponseHeaders.ts'
import type { Engine } from '../engine/Engine.ts'
import { EmbeddedEngine } from '../engines/embedded/EmbeddedEngine.ts'
import { TopicAdmin } from '../topics/TopicAdmin.ts'
import { mountTopicRoutes } from './topicRoutes.ts'
import { checkStreamPrefixes, underStreamPrefix } from './streamPrefixes.ts'
import type { AnyTopicDefinition } from '../../log/TopicDefinition.ts'
import { withTopicSchemas } from '../topics/topicSchemas.ts'

export interface AppOptions extends SecurityOptions {
  /** The embedded engine's storage (SQLite or memory); give this or `engine`. */
  storage?: ServerStorage
  /** Any other engine (JetStream). */
  engine?: Engine
  /** The clock (tests of TTL and retention inject one). Default Date.now. */
  now?: () => number
  /** How long a long-poll waits for data before 204, and an SSE connection between keep-alives. Default 30 s. */
  longPollTimeoutMs?: number
  /** SSE connections are closed after this long, for CDN collapsing (PROTOCOL.md §8.2). Default 60 s. */
  sseMaxDurationMs?: number
  /** The largest request body; larger ones get 413. Default 8 MiB. */
  maxBodyBytes?: number
  /** The most record bytes one read returns. Default 1 MiB. */
  maxReadBytes?: number
  /**
   * Where plain Durable Streams live: a path under one of these is a stream, any other path
   * (outside the topic and admin routes) is 404, so a mistyped URL cannot create one. Each starts
   * and ends with `/` and stays clear of `/topics/`, `/admin/` and `/auth/`. Default
   * `['/v1/stream/']`; `[]` serves topics only.
   */
  streamPrefixes?: readonly string[]
  /**
   * Typed topics (`defineTopic`) whose appends the server checks: every record appended to one
   * of their partitions must match the schema (older versions upcast first), or the whole batch
   * is refused with a 400 SCHEMA_VALIDATION_FAILED naming the record and field. Other topics
   * are not touched.
   */
  schemas?: readonly AnyTopicDefinition[]
}

export const defaultMaxBodyBytes = 8 * 1024 * 1024

/** What @hono/node-server passes as env: the raw request, whose URL still has its dot segments. */
export interface NodeBindings {
  incoming?: { url?: string; socket?: { remoteAddress?: string } }
}

/**
 * The Durable Streams HTTP API as a hono app: each path under a stream prefix is a stream (PUT
 * create, POST append, GET read, HEAD metadata, DELETE), each `/topics/<topic>/<partition>` a
 * topic partition, with the topic admin API beside them. Runs on any runtime hono does; `serve`
 * runs it on Node.
 */
export function createApp(options: AppOptions): {
  app: Hono<{ Bindings: NodeBindings }>
  engine: Engine
  topics: TopicAdmin
} {
  if ((options.storage === undefined) === (options.engine === undefined)) {
    throw new TypeError('createApp needs either storage or engine')
  }
  const streamPrefixes = checkStreamPrefixes(options.streamPrefixes)
  const engine = withTopicSchemas(
    options.engine ??
      new EmbeddedEngine({
        storage: options.storage!,
        ...(options.now && { now: options.now }),
        ...(options.maxReadBytes !== undefined && { maxReadBytes: options.maxReadBytes }),
      }),
    options.schemas,
  )
  const settings = {
    longPollTimeoutMs: options.longPollTimeoutMs ?? 30_000,
    sseMaxDurationMs: options.sseMaxDurationMs ?? 60_000,
    // Authenticated reads may be per-user: shared caches must not keep them.
    immutableCacheControl: `${options.authenticate ? 'private' : 'public'}, max-age=60, stale-while-revalidate=300`,
  }
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes
  const app = new Hono<{ Bindings: NodeBindings }>()

  app.use(async (c, next) => {
    await next()
    const h = c.res.headers
    const origin = c.req.header('origin')
    if (options.allowedOrigins && origin !== undefined && options.allowedOrigins.includes(origin)) {
      h.set('access-control-allow-origin', origin)
      h.append('vary', 'Origin')
    } else if (!options.allowedOrigins) h.set('access-control-allow-origin', '*')
    if (options.authenticate) h.append('vary', 'Authorization')
    for (const [name, value] of Object.entries(sharedResponseHeaders)) h.set(name, value)
  })

  app.use(async (c, next) => {
    const problem = checkPath(c.env?.incoming?.url ?? new URL(c.req.url).pathname)
    if (problem) return errorResponse(400, 'BAD_REQUEST', problem)
    await next()
  })

  app.use(guard(options, engine.now))

  const tooLarge = (): Response =>
    errorResponse(
      413,
      'MESSAGE_TOO_LARGE',
      `The request body is larger than ${maxBodyBytes} bytes: send smaller batches`,
      // No `connection: close`: closing under a client still sending its body resets the
      // connection, and clients that read the answer only once their body is sent (Node's fetch)
      // see EPIPE, not the 413. The rest of the body is read and discarded instead (on Node,
      // @hono/node-server drains it), and the connection carries the client's next request.
    )
  // hono's bodyLimit reads `request.body`, which makes @hono/node-server build a full web Request
  // and stream for every request (a third of a small append's cost). A declared length is checked
  // here instead, and the body then read by the adapter's direct path; only bodies without one
  // (chunked) go through bodyLimit, which counts them as they stream in.
  const chunkedLimit = bodyLimit({ maxSize: maxBodyBytes, onError: tooLarge })
  app.use(async (c, next) => {
    const method = c.req.method
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return next()
    // Node decodes chunked framing only: a body still gzipped (by Transfer- or Content-Encoding)
    // would be stored as the compressed bytes.
    for (const [name, only, status] of decodable) {
      const value = c.req.header(name)
      if (value !== undefined && value.trim().toLowerCase() !== only) {
        return errorResponse(status, 'UNSUPPORTED_ENCODING', `${name}: "${value}" is not supported`)
      }
    }
    const transfer = c.req.header('transfer-encoding')
    const length = c.req.header('content-length')
    if (length !== undefined && transfer === undefined) {
      return Number(length) > maxBodyBytes ? tooLarge() : next()
    }
    return chunkedLimit(c, next)
  })

  app.onError((error, c) => failureResponse(error, c.req.raw.signal.aborted))

  const topics = new TopicAdmin(engine)
  mountTopicRoutes(app, topics)

  app.all('*', async (c) => {
    const url = new URL(c.req.url)
    const path = url.pathname
    const headers = c.req.raw.headers
    if (path.startsWith(topicsPrefix) && (c.req.method === 'PUT' || c.req.method === 'DELETE')) {
      return errorResponse(
        405,
        'METHOD_NOT_ALLOWED',
        'Topic partitions are created and deleted with the admin API: /admin/topics/:topic',
      )
    }
    // A preflight passes everywhere, so that a browser sees the 404 below rather than a CORS error.
    if (c.req.method === 'OPTIONS') return new Response(null, { status: 204 })
    if (!path.startsWith(topicsPrefix) && !underStreamPrefix(path, streamPrefixes)) {
      return errorResponse(404, 'NOT_FOUND', notFoundMessage(path, streamPrefixes))
    }
    switch (c.req.method) {
      case 'PUT':
        return handleCreate(
          engine,
          path,
          headers,
          await readBody(c.req.raw),
          url.href.split('?')[0]!,
        )
      case 'POST':
        return handleAppend(engine, path, headers, await readBody(c.req.raw))
      case 'GET':
        return handleRead(engine, path, url, headers, settings, c.req.raw.signal)
      case 'HEAD':
        return handleHead(engine, path)
      case 'DELETE': {
        const outcome = await engine.delete(path)
        if (outcome.kind === 'notFound')
          return errorResponse(404, 'STREAM_NOT_FOUND', 'No stream at this path')
        if (outcome.kind === 'gone')
          return errorResponse(410, 'STREAM_GONE', 'The stream is already deleted')
        return new Response(null, { status: 204 })
      }
      default:
        return errorResponse(405, 'METHOD_NOT_ALLOWED', `${c.req.method} is not supported`)
    }
  })

  return { app, engine, topics }
}

function notFoundMessage(path: string, streamPrefixes: readonly string[]): string {
  const streams =
    streamPrefixes.length === 0
      ? 'this server has topics only'
      : `streams live under ${streamPrefixes.join(', ')}`
  return `Nothing at ${path}: ${streams}, topic partitions under ${topicsPrefix}<topic>/<partition>`
}

async function readBody(request: Request): Promise<Uint8Array> {
  return new Uint8Array(await request.arrayBuffer())
}

/** The body encodings the server undoes (Node's chunked framing), and the status of others. */
const decodable = [
  ['transfer-encoding', 'chunked', 501],
  ['content-encoding', 'identity', 415],
] as const
