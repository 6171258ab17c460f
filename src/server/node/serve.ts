import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { checkPath } from '../http/checkPath.ts'
import { errorBody as body } from '../../protocol/index.ts'
import type { ServerErrorCode } from '../http/errorResponse.ts'
import { createApp, defaultMaxBodyBytes, type AppOptions } from '../http/createApp.ts'
import type { Engine } from '../engine/Engine.ts'
import type { TopicAdmin } from '../topics/TopicAdmin.ts'
import { importPeer } from '../missingPeer.ts'
import { checkStreamPrefixes } from '../http/streamPrefixes.ts'
import { directAppend } from './directAppend.ts'

export interface ServeOptions extends AppOptions {
  /** 0 picks a free port. Default 4437 (the protocol's registered port). */
  port?: number
  /** Default 127.0.0.1: listen on other interfaces only when asked. */
  hostname?: string
  /** How long `close` lets in-flight requests finish before cutting their connections. Default 10 s. */
  shutdownGraceMs?: number
  /** How often topics are cleaned (retention, compaction) in the background. Default 30 s; 0 = never. */
  cleanerIntervalMs?: number
}

export interface RunningServer {
  /** `http://host:port`, without a trailing slash. */
  url: string
  port: number
  engine: Engine
  /** The topic admin (create, describe, clean and delete topics), on every backend. */
  topics: TopicAdmin
  /**
   * Stops accepting connections, ends live reads, waits for in-flight requests, then closes
   * the storage. Appends that were acknowledged are already committed.
   */
  close(): Promise<void>
}

/** Runs the server on Node (node:http with hono's request listener). */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  // Loaded here, so that a missing optional peer is named (MissingPeerError), not a file of ours.
  const { getRequestListener } = await importPeer(
    () => import('@hono/node-server'),
    ['@hono/node-server'],
    'serve() of duality/server/node',
  )
  const { app, engine, topics } = createApp(options)
  const cleanerMs = options.cleanerIntervalMs ?? 30_000
  let cleaning: Promise<void> | undefined
  const cleaner =
    cleanerMs > 0
      ? setInterval(() => {
          // One pass at a time: a slow pass (a large JetStream topic) must not overlap the next.
          if (cleaning) return
          cleaning = topics
            .backgroundPass(cleanerMs)
            .catch((error: unknown) =>
              console.error('duality server: topic cleaning failed', error),
            )
            .finally(() => (cleaning = undefined))
        }, cleanerMs).unref()
      : undefined
  const hostname = options.hostname ?? '127.0.0.1'
  const shutdownGraceMs = options.shutdownGraceMs ?? 10_000
  const listener = getRequestListener(app.fetch)
  // Without security hooks, hono's middleware adds only the open CORS headers: appends can skip
  // it (directAppend writes the same bytes).
  const secured =
    options.authenticate ?? options.authorize ?? options.allowedOrigins ?? options.rateLimit
  const direct =
    secured === undefined
      ? {
          engine,
          streamPrefixes: checkStreamPrefixes(options.streamPrefixes),
          maxBodyBytes: options.maxBodyBytes ?? defaultMaxBodyBytes,
        }
      : undefined
  // Node answers a missing Host itself, with an empty 400; checked below to send the JSON body.
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    // hono's adapter answers a target it cannot parse as a URL (a backslash) with a bare 400
    // before the app runs; check the raw target here so every refusal has the JSON body.
    const problem = req.headers.host === undefined ? 'Send a Host header' : checkPath(req.url ?? '')
    if (problem) return answer(res, 400, 'BAD_REQUEST', problem)
    if (direct && directAppend(direct, req, res)) return
    void listener(req, res)
  })
  server.on('clientError', answerMalformedRequest)
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) =>
    answer(res, 417, 'EXPECTATION_FAILED', 'Only "Expect: 100-continue" is supported'),
  )
  server.on('connect', (_req: IncomingMessage, socket: Duplex) =>
    endSocket(socket, 405, 'Method Not Allowed', 'METHOD_NOT_ALLOWED', 'CONNECT is not supported'),
  )
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      clearInterval(cleaner)
      reject(error)
    }
    server.once('error', onError)
    server.listen(options.port ?? 4437, hostname, () => {
      server.off('error', onError)
      const { port } = server.address() as AddressInfo
      const host = hostname.includes(':') ? `[${hostname}]` : hostname
      resolve({
        url: `http://${host}:${port}`,
        port,
        engine,
        topics,
        close: () =>
          new Promise<void>((done, fail) => {
            clearInterval(cleaner)
            engine.closeLiveReads()
            // Connections whose last request just finished (ended live reads included) sit idle
            // in keep-alive: close them as they become idle, and any left after the grace period.
            const sweep = setInterval(() => server.closeIdleConnections(), 20)
            const deadline = setTimeout(() => server.closeAllConnections(), shutdownGraceMs)
            server.close((error) => {
              clearInterval(sweep)
              clearTimeout(deadline)
              // A cleaning pass still running finishes before the storage closes under it.
              Promise.resolve(cleaning)
                .then(() => engine.close())
                .then(
                  () => (error ? fail(error) : done()),
                  (closeError: unknown) => fail(closeError),
                )
            })
            server.closeIdleConnections()
          }),
      })
    })
  })
}

const errorBody = (code: ServerErrorCode, message: string): string =>
  JSON.stringify(body(code, message))

/** A refusal made before the app runs, with the app's JSON error body. */
function answer(res: ServerResponse, status: number, code: ServerErrorCode, message: string): void {
  const body = errorBody(code, message)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
  })
  res.end(body)
}

/** The same on a raw socket that no longer carries HTTP, then closes it. */
function endSocket(
  socket: Duplex,
  status: number,
  reason: string,
  code: ServerErrorCode,
  message: string,
): void {
  if (!socket.writable) return void socket.destroy()
  const body = errorBody(code, message)
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      'content-type: application/json\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  )
}

/**
 * Node's HTTP parser refuses some requests before they reach the app (a backslash or a control
 * character in the target, a broken header): answer those with the same JSON error body too.
 */
function answerMalformedRequest(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET') return void socket.destroy()
  endSocket(socket, 400, 'Bad Request', 'BAD_REQUEST', 'The request is not valid HTTP/1.1')
}
