// Everything `npm run demo` runs, in one process: the duality server on SQLite, the topics, the
// rate feeder and the Vite dev server (which proxies the server's API, so page, worker and server
// share one origin and no CORS is needed). The e2e test starts the same thing on free ports.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createServer, type ViteDevServer } from 'vite'
import type { TopicSpec } from '../src/index.ts'
import { serve, type RunningServer } from '../src/server/node/index.ts'
import { sqliteServerStorage } from '../src/server/engines/sqlite/index.ts'
import { startFeeder } from './feeder.ts'
import { FX_RATES, PAYMENTS, paymentsOnServer } from './spending.ts'

export interface DemoOptions {
  /** Where the server keeps its SQLite database. */
  dataDir: string
  serverPort?: number
  vitePort?: number
  /** Rate updates every this many ms; 0: no feeder (the test publishes its own rates). */
  feederMs?: number
  /** Vite logs errors only (tests). */
  quiet?: boolean
}

export interface RunningDemo {
  url: string
  server: RunningServer
  vite: ViteDevServer
  close(): Promise<void>
}

/** PUT /admin/topics/:topic: 201 created, 409 if it exists already (kept as it is). */
async function ensureTopic(serverUrl: string, spec: TopicSpec): Promise<void> {
  const res = await fetch(`${serverUrl}/admin/topics/${spec.topic}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      numPartitions: spec.numPartitions ?? 1,
      configEntries: spec.configEntries ?? [],
    }),
  })
  await res.body?.cancel()
  if (!res.ok && res.status !== 409) {
    throw new Error(`creating topic ${spec.topic} failed: HTTP ${res.status}`)
  }
}

export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  mkdirSync(options.dataDir, { recursive: true })
  const storage = sqliteServerStorage({ filename: join(options.dataDir, 'duality.db') })
  const start = (port: number) =>
    serve({
      port,
      storage,
      // Compaction of fx-rates on the server, often enough to see it in the demo.
      cleanerIntervalMs: 10_000,
      // The server checks each payment (its shape and the limit per payment) before it is written.
      schemas: [paymentsOnServer],
    })
  // The default port may be taken (another checkout's demo): then any free one will do, as the
  // page reaches the server through Vite's proxy and never needs its port.
  const server = await start(options.serverPort ?? 8787).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EADDRINUSE' || options.serverPort !== undefined) throw error
    return start(0)
  })
  const stopFeeder: (() => void)[] = []
  let vite: ViteDevServer | undefined
  try {
    for (const spec of [FX_RATES, PAYMENTS]) await ensureTopic(server.url, spec)
    if (options.feederMs !== 0) stopFeeder.push(startFeeder(server.url, options.feederMs))
    const proxy = { target: server.url, changeOrigin: true }
    vite = await createServer({
      configFile: new URL('./vite.config.ts', import.meta.url).pathname,
      clearScreen: false,
      ...(options.quiet ? { logLevel: 'error' as const } : {}),
      server: {
        // 5173, or the next free port (Vite says which; so does the URL printed).
        port: options.vitePort ?? 5173,
        strictPort: false,
        proxy: { '/topics': proxy, '/admin': proxy },
      },
    })
    await vite.listen()
  } catch (error) {
    stopFeeder.forEach((stop) => stop())
    await vite?.close()
    await server.close()
    throw error
  }
  const running = vite
  return {
    url: running.resolvedUrls!.local[0]!,
    server,
    vite: running,
    async close() {
      stopFeeder.forEach((stop) => stop())
      await running.close()
      await server.close()
    },
  }
}
