import { serve as serveNode, type ServerType } from '@hono/node-server'
import type { AddressInfo } from 'node:net'
import { createApp, type AppOptions } from './createApp.ts'
import type { StreamEngine } from './StreamEngine.ts'
import type { TopicAdmin } from './TopicAdmin.ts'

export interface ServeOptions extends AppOptions {
  /** 0 picks a free port. Default 4437 (the protocol's registered port). */
  port?: number
  /** Default 127.0.0.1: listen on other interfaces only when asked. */
  hostname?: string
  /** How often topics are cleaned (retention, compaction) in the background. Default 30 s; 0 = never. */
  cleanerIntervalMs?: number
}

export interface RunningServer {
  /** `http://host:port`, without a trailing slash. */
  url: string
  port: number
  engine: StreamEngine
  topics: TopicAdmin
  /**
   * Stops accepting connections, ends live reads, waits for in-flight requests, then closes
   * the storage. Appends that were acknowledged are already committed.
   */
  close(): Promise<void>
}

/** Runs the server on Node (hono's node adapter). */
export function serve(options: ServeOptions): Promise<RunningServer> {
  const { app, engine, topics } = createApp(options)
  const cleanerMs = options.cleanerIntervalMs ?? 30_000
  const cleaner =
    cleanerMs > 0
      ? setInterval(() => {
          try {
            topics.cleanAll()
          } catch (error) {
            console.error('duality server: topic cleaning failed', error)
          }
        }, cleanerMs).unref()
      : undefined
  const hostname = options.hostname ?? '127.0.0.1'
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      clearInterval(cleaner)
      reject(error)
    }
    const server: ServerType = serveNode(
      { fetch: app.fetch, port: options.port ?? 4437, hostname },
      (info: AddressInfo) => {
        server.off('error', onError)
        const host = hostname.includes(':') ? `[${hostname}]` : hostname
        resolve({
          url: `http://${host}:${info.port}`,
          port: info.port,
          engine,
          topics,
          close: () =>
            new Promise<void>((done, fail) => {
              clearInterval(cleaner)
              engine.closeLiveReads()
              server.close((error) => {
                try {
                  options.storage.close()
                } catch (closeError) {
                  return fail(closeError)
                }
                if (error) fail(error)
                else done()
              })
              if ('closeIdleConnections' in server) server.closeIdleConnections()
            }),
        })
      },
    )
    server.once('error', onError)
  })
}
