import type { IncomingMessage, ServerResponse } from 'node:http'
import { topicsPrefix } from '../../protocol/index.ts'
import type { Answer } from '../http/answer.ts'
import { appendAnswer, type RequestHeaders } from '../http/appendHandler.ts'
import { failureAnswer } from '../http/failureResponse.ts'
import { sharedResponseHeaders } from '../http/sharedResponseHeaders.ts'
import { underStreamPrefix } from '../http/streamPrefixes.ts'
import type { Engine } from '../engine/Engine.ts'

/**
 * The append (POST) of a plain request straight on node:http, beside hono: building hono's web
 * Request, Headers, Context and middleware chain, then a web Response to copy back, cost more
 * than the append itself. It runs the same decision (appendAnswer, failureAnswer) and writes the
 * bytes hono's adapter would (the test holds the two to identical status, headers and body).
 *
 * Only requests where hono's middleware would do nothing but add the open CORS headers take it:
 * no security hook configured (the server passes `undefined` then), a target and Host that
 * @hono/node-server takes as they are, a Content-Length within the limit and no transfer or
 * content coding, one Content-Type. Anything else returns false and goes through hono.
 */
export function directAppend(
  settings: { engine: Engine; streamPrefixes: readonly string[]; maxBodyBytes: number },
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  if (req.method !== 'POST') return false
  const target = req.url ?? ''
  // @hono/node-server's own tests for a target and a Host it uses without new URL(): then the
  // path hono routes and the app reads is the target up to ? or #.
  if (!plainTarget.test(target) || dotSegment.test(target)) return false
  const host = req.headers.host
  if (host === undefined || !plainHost.test(host)) return false
  const end = target.search(/[?#]/)
  const path = end < 0 ? target : target.slice(0, end)
  if (!path.startsWith(topicsPrefix) && !underStreamPrefix(path, settings.streamPrefixes)) {
    return false
  }
  const h = req.headers
  const length = h['content-length']
  if (length === undefined || h['transfer-encoding'] !== undefined) return false
  if (h['content-encoding'] !== undefined || Number(length) > settings.maxBodyBytes) return false
  // node:http keeps the first of several Content-Types where a web Headers joins them.
  if (repeatsContentType(req.rawHeaders)) return false

  const chunks: Buffer[] = []
  let size = 0
  req.on('data', (chunk: Buffer) => {
    chunks.push(chunk)
    size += chunk.length
  })
  req.on('error', (error) => write(res, failureAnswer(error, true)))
  req.on('end', () => {
    // A body of its own, as hono's path reads it: stored records are views of it, and a socket's
    // chunk may be a view of a larger read buffer that they would otherwise keep alive.
    const body = new Uint8Array(size)
    let at = 0
    for (const chunk of chunks) {
      body.set(chunk, at)
      at += chunk.length
    }
    appendAnswer(settings.engine, path, nodeHeaders(req), body).then(
      (answer) => write(res, answer),
      (error: unknown) => write(res, failureAnswer(error, res.destroyed)),
    )
  })
  return true
}

const plainTarget = /^\/[!#$&-;=?-[\]_a-z~]*$/
const dotSegment = /\/\.\.?(?:[/?#]|$)/
const plainHost = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/

function repeatsContentType(raw: readonly string[]): boolean {
  let seen = false
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    if (name.length === 12 && name.toLowerCase() === 'content-type') {
      if (seen) return true
      seen = true
    }
  }
  return false
}

/** node:http's headers as a web Headers reads them: repeated ones joined with ", ". */
function nodeHeaders(req: IncomingMessage): RequestHeaders {
  return {
    get(name) {
      const value = req.headers[name]
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value
    },
  }
}

/** The open CORS and shared headers, as the app's middleware sets them, sorted by name. */
const openHeaders: readonly (readonly [string, string])[] = Object.entries({
  'access-control-allow-origin': '*',
  ...sharedResponseHeaders,
}).sort(([a], [b]) => (a < b ? -1 : 1))

/**
 * What hono's adapter writes for the app's Response: the app's CORS middleware adds the open
 * headers (over any of the answer's own of the same name), a web Headers lists the names sorted,
 * and a body gets its Content-Length last. A flat [name, value, ...] list, merged from the
 * constant sorted headers and the answer's few, costs less than building and sorting an object.
 */
function write(res: ServerResponse, answer: Answer): void {
  if (res.headersSent || res.destroyed) return
  const own = Object.keys(answer.headers).sort()
  const flat: string[] = []
  let o = 0
  for (const [name, value] of openHeaders) {
    while (o < own.length && own[o]! < name) flat.push(own[o]!, answer.headers[own[o++]!]!)
    if (own[o] === name) o++
    flat.push(name, value)
  }
  while (o < own.length) flat.push(own[o]!, answer.headers[own[o++]!]!)
  if (answer.body !== undefined) flat.push('Content-Length', String(Buffer.byteLength(answer.body)))
  res.writeHead(answer.status, flat)
  res.end(answer.body)
}
