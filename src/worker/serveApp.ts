/// <reference lib="webworker" />
import type { TopicSpec } from '../log/Admin.ts'
import { InvalidConfigError } from '../log/errors.ts'
import type { Log } from '../log/Log.ts'
import { KafkaStreams, type KafkaStreamsConfig } from '../streams/KafkaStreams.ts'
import type { Topology } from '../streams/Topology.ts'
import { httpTransport, type HttpTransportOptions } from '../sync/httpTransport.ts'
import { Sync, type Connection, type SyncStatus } from '../sync/Sync.ts'
import type { SyncTransport } from '../sync/SyncTransport.ts'
import { changelogView, type ViewSpec } from '../views/createViewsApi.ts'
import { PendingOverlay } from '../views/PendingOverlay.ts'
import { lockMembership } from './lockMembership.ts'

export interface StreamsOptions extends Omit<KafkaStreamsConfig, 'applicationId' | 'membership'> {
  applicationId: string
  topology: Topology
}

export interface SyncConfig {
  /** The duality server's base URL. */
  url?: string
  /** Which of `topics` follow the server (their local partitions mirror the server's). */
  topics: string[]
  /** A bearer token; asked again with `{ refresh: true }` after a 401. */
  token?: HttpTransportOptions['token']
  /** Another transport than HTTP to `url` (tests use an in-process server). */
  transport?: SyncTransport
}

/** What the syncing tab tells the others about its connection. */
type StatusNote = { connection: Connection; upToDate: Record<string, boolean> }

/** Stores a user named (Materialized), not the ones the DSL made for itself. */
export function namedStores(topology: Topology): string[] {
  return [...topology.stores.keys()].filter(
    (name) => !/-\d{10}(-|$)/.test(name) && !/-(meta|buffer)$/.test(name),
  )
}

/**
 * What `serve({ streams, sync })` runs besides the log, in every tab's worker:
 * - the topology as one KafkaStreams group across tabs (Web Locks): one tab processes, the others
 *   stand by, and every tab's views mirror the changelogs;
 * - sync: every tab routes sends to the outboxes; one tab (a Web Lock) pulls and pushes, and tells
 *   the others its connection state over a BroadcastChannel;
 * - the pending overlay of the views, computed where the topology runs.
 */
export function serveApp(
  log: Log,
  name: string,
  topics: TopicSpec[],
  options: { streams?: StreamsOptions; sync?: SyncConfig },
) {
  const locks = typeof navigator !== 'undefined' && 'locks' in navigator
  let streams: KafkaStreams | undefined
  let overlay: PendingOverlay | undefined
  let sync: Sync | undefined
  let channel: BroadcastChannel | undefined
  let releaseSync: (() => void) | undefined
  let syncDone: Promise<void> | undefined
  const views: ViewSpec[] = []

  if (options.sync) {
    const { url, transport, token } = options.sync
    const specs = options.sync.topics.map((topic) => {
      const spec = topics.find((t) => t.topic === topic)
      if (!spec)
        throw new InvalidConfigError(
          `Synced topic "${topic}" must be declared in serve({ topics })`,
        )
      return spec
    })
    if (!transport && !url) throw new InvalidConfigError('sync needs { url } or { transport }')
    sync = new Sync(log, {
      transport: transport ?? httpTransport({ url: url!, ...(token ? { token } : {}) }),
      topics: specs,
    })
  }
  if (options.streams) {
    const { topology, ...config } = options.streams
    streams = new KafkaStreams(topology, log, {
      ...config,
      ...(locks ? { membership: lockMembership(name, { pollMs: 250 }) } : {}),
    })
    const stores = namedStores(topology)
    for (const store of stores) views.push(changelogView(config.applicationId, store))
    if (sync) {
      overlay = new PendingOverlay(log, streams, {
        applicationId: config.applicationId,
        synced: options.sync!.topics,
        stores,
      })
    }
  }

  return {
    views,
    sync,
    streams,
    /** After the topics exist. */
    async start(): Promise<void> {
      if (sync) {
        await sync.prepare()
        const running = sync
        channel = new BroadcastChannel(`duality:${name}:sync`)
        if (locks) {
          const post = (status: SyncStatus) => {
            const upToDate = Object.fromEntries(
              Object.entries(status.topics).map(([t, s]) => [t, s.upToDate]),
            )
            channel?.postMessage({ connection: status.connection, upToDate } satisfies StatusNote)
          }
          channel.onmessage = (event: MessageEvent<StatusNote | { ask: true }>) => {
            if (!('ask' in event.data)) running.observe(event.data)
          }
          // The syncing tab posts its status when it changes; a tab that starts later asks for
          // the current one, or it would show 'syncing' until the next change (while offline,
          // that may be never).
          channel.postMessage({ ask: true })
          syncDone = navigator.locks
            .request(`duality:${name}:sync`, async () => {
              if (log.isClosed) return
              channel!.onmessage = (event: MessageEvent<StatusNote | { ask: true }>) => {
                if ('ask' in event.data) void running.status().then(post, () => undefined)
              }
              running.subscribe((event) => {
                if (event.type === 'status') post(event.status)
              })
              await running.start()
              await new Promise<void>((resolve) => (releaseSync = resolve))
              await running.stop()
            })
            .then(
              () => undefined,
              () => undefined,
            )
        } else {
          await running.start()
        }
      }
      if (streams) {
        await streams.start()
        overlay?.start()
      }
    },
    async close(): Promise<void> {
      overlay?.close()
      await streams?.close()
      releaseSync?.()
      if (releaseSync) await syncDone
      if (!locks) await sync?.stop()
      channel?.close()
    },
  }
}
