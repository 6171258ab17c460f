import { mkdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { ServerStorage } from '../engines/embedded/ServerStorage.ts'
import type { Engine } from '../engine/Engine.ts'
import { importPeer } from '../missingPeer.ts'
import { checkStreamPrefixes } from '../http/streamPrefixes.ts'

// Each mode loads only what it runs (--help nothing, --memory hono alone, SQLite better-sqlite3
// too, --nats the NATS client), so an install without the other peers still starts.
const http = ['hono', '@hono/node-server']
const loadServe = () => importPeer(() => import('./serve.ts'), http, 'duality serve')
const loadSqlite = () =>
  importPeer(
    () => import('../engines/sqlite/sqliteServerStorage.ts'),
    ['better-sqlite3'],
    'duality serve --data (SQLite)',
  )
const loadMemory = () =>
  importPeer(
    () => import('../engines/memory/memoryServerStorage.ts'),
    http,
    'duality serve --memory',
  )
const loadJetStream = () =>
  importPeer(
    () => import('../engines/jetstream/JetStreamEngine.ts'),
    ['@nats-io/transport-node', '@nats-io/jetstream', '@nats-io/kv'],
    'duality serve --nats',
  )
const loadJwt = () =>
  importPeer(() => import('../auth/jwtAuthenticator.ts'), ['jose'], 'duality serve --auth-*')

const usage = `Usage: duality serve [options]

Runs the duality server log: Durable Streams under /v1/stream/ (or each --stream-prefix), topics
under /topics/<topic>/<partition>, the topic admin API under /admin/topics. Other paths are 404.

Options:
  --port <n>            port to listen on (default 8787; 0 picks a free one)
  --host <address>      interface to listen on (default 127.0.0.1)
  --data <dir>          directory of the SQLite database (default ./data)
  --memory              keep everything in memory instead (nothing survives a restart)
  --nats <urls>         store in NATS JetStream instead (comma-separated server URLs), so that
                        several duality servers serve the same streams and topics
  --replicas <n>        JetStream replicas of each stream with --nats (default 1; 3 in production)
  --synchronous <mode>  SQLite synchronous: FULL (default, survives power loss) or NORMAL
  --max-body <bytes>    largest request body (default 8388608)
  --long-poll-timeout <ms>
                        how long a long-poll read waits for data before 204 (default 30000);
                        keep it under the idle timeout of any proxy in front of the server
  --auth-secret <s>     require a bearer JWT signed with this HMAC secret (principal = sub)
  --auth-jwks <url>     require a bearer JWT verified against this JWKS URL
  --origin <origin>     allow browser requests from this Origin only (repeatable)
  --stream-prefix <p>   serve Durable Streams under this path instead of /v1/stream/ (repeatable;
                        starts and ends with /, outside /topics/, /admin/ and /auth/)
  -h, --help            this text
`

/** `duality serve ...`: runs until SIGTERM or SIGINT, then shuts down gracefully. */
export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string', default: '8787' },
      host: { type: 'string', default: '127.0.0.1' },
      data: { type: 'string', default: './data' },
      memory: { type: 'boolean', default: false },
      nats: { type: 'string' },
      replicas: { type: 'string', default: '1' },
      synchronous: { type: 'string', default: 'FULL' },
      'max-body': { type: 'string', default: String(8 * 1024 * 1024) },
      'long-poll-timeout': { type: 'string', default: '30000' },
      'auth-secret': { type: 'string' },
      'auth-jwks': { type: 'string' },
      origin: { type: 'string', multiple: true },
      'stream-prefix': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help || positionals[0] !== 'serve') {
    process.stdout.write(usage)
    return values.help ? 0 : 1
  }
  const port = Number(values.port)
  const maxBodyBytes = Number(values['max-body'])
  const synchronous = values.synchronous.toUpperCase()
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be 0-65535')
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1)
    throw new Error('--max-body must be > 0')
  // Digits only: Number() would take '', '1e3' or ' 5', and setTimeout clamps anything over 2^31-1
  // ms to 1 ms, which would turn every long-poll into a busy loop.
  const longPoll = values['long-poll-timeout']
  const longPollTimeoutMs = /^[0-9]+$/.test(longPoll) ? Number(longPoll) : NaN
  if (!(longPollTimeoutMs >= 1 && longPollTimeoutMs <= 2 ** 31 - 1)) {
    throw new Error('--long-poll-timeout must be a whole number of milliseconds, 1-2147483647')
  }
  if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
    throw new Error('--synchronous must be FULL or NORMAL')
  }
  const replicas = Number(values.replicas)
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
    throw new Error('--replicas must be 1-5')
  }
  if (values.nats !== undefined && values.memory)
    throw new Error('Use --nats or --memory, not both')
  const secret = values['auth-secret']
  const jwksUrl = values['auth-jwks']
  if (secret !== undefined && jwksUrl !== undefined) {
    throw new Error('Use --auth-secret or --auth-jwks, not both')
  }
  const prefixes = values['stream-prefix']
  if (prefixes) {
    // Checked before anything is opened, with the flag's name in the message.
    try {
      checkStreamPrefixes(prefixes)
    } catch (error) {
      throw new Error(`--stream-prefix: ${(error as Error).message}`)
    }
  }
  const { serve } = await loadServe()
  const authenticate =
    secret !== undefined
      ? (await loadJwt()).jwtAuthenticator({ secret })
      : jwksUrl !== undefined
        ? (await loadJwt()).jwtAuthenticator({ jwksUrl })
        : undefined
  let storage: ServerStorage | undefined
  let engine: Engine | undefined
  if (values.nats !== undefined) {
    const { JetStreamEngine } = await loadJetStream()
    engine = await JetStreamEngine.connect({ servers: values.nats.split(','), replicas })
  } else if (values.memory) storage = (await loadMemory()).memoryServerStorage()
  else {
    const { sqliteServerStorage } = await loadSqlite()
    const dir = resolve(values.data)
    mkdirSync(dir, { recursive: true })
    storage = sqliteServerStorage({ filename: join(dir, 'duality.db'), synchronous })
  }
  const server = await serve({
    port,
    hostname: values.host,
    ...(engine ? { engine } : storage && { storage }),
    maxBodyBytes,
    longPollTimeoutMs,
    ...(authenticate && { authenticate }),
    ...(values.origin && { allowedOrigins: values.origin }),
    ...(prefixes && { streamPrefixes: prefixes }),
  })
  process.stdout.write(`duality server listening on ${server.url}\n`)
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGTERM', stop)
      process.off('SIGINT', stop)
      done()
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
    // Started through a wrapper that does not pass its signals on (npx runs `sh -c duality`):
    // when the wrapper dies this process is re-parented, and when npx dies its shell is: either
    // way the server stops as if it had been sent SIGTERM.
    const parent = process.ppid
    const wrapper = wrapperParent(parent)
    const watch = setInterval(() => {
      if (process.ppid !== parent || (wrapper !== undefined && !alive(wrapper))) stop()
    }, 500)
    watch.unref()
    process.once('SIGTERM', () => clearInterval(watch))
    process.once('SIGINT', () => clearInterval(watch))
  })
  // Graceful: no new connections, live reads end, in-flight requests finish (an append is
  // committed before its response), then the database closes.
  await server.close()
  process.stdout.write('duality server stopped\n')
  return 0
}

/**
 * The process that started our parent, when our parent is a shell that only runs us (npx's
 * `sh -c`): Linux names it in /proc. Undefined elsewhere, or when the parent is anything else.
 */
function wrapperParent(parent: number): number | undefined {
  try {
    if (readFileSync(`/proc/${parent}/comm`, 'utf8').trim() !== 'sh') return undefined
    // /proc/<pid>/stat: "pid (comm) state ppid ...", comm may hold spaces: split after ')'.
    const stat = readFileSync(`/proc/${parent}/stat`, 'utf8')
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    return Number.isSafeInteger(ppid) && ppid > 1 ? ppid : undefined
  } catch {
    return undefined
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as { code?: unknown }).code === 'EPERM'
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`duality: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  },
)
