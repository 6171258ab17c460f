/// <reference lib="webworker" />
import type { TopicSpec } from '../log/Admin.ts'
import { InvalidConfigError } from '../log/errors.ts'
import type { Log } from '../log/Log.ts'
import { KafkaStreams, type KafkaStreamsConfig } from '../streams/KafkaStreams.ts'
import type { Topology } from '../streams/Topology.ts'
import { storeSnapshotLabel } from '../streams/StoreSnapshots.ts'
import { VersionedKeyValueStore } from '../streams/VersionedKeyValueStore.ts'
import { httpTransport, type HttpTransportOptions } from '../sync/httpTransport.ts'
import { Sync } from '../sync/Sync.ts'
import { toRelay, type SyncRelay } from '../sync/syncRelay.ts'
import type { SyncTransport } from '../sync/SyncTransport.ts'
import type { AsOf } from '../streams/asOf.ts'
import { changelogView, type ViewSpec } from './views/createViewsApi.ts'
import type { ViewAsOf, WireEntry } from './views/viewWire.ts'
import { PendingOverlay } from './views/PendingOverlay.ts'
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
  /** Producer ids start with `<this>/` (the user's id, when the server authenticates). */
  producerIdPrefix?: string
}

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
 * - sync: every tab's sends (the page's and the topology's outputs) go to the outboxes; one tab (a Web Lock) pulls and pushes, and tells
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
  let closing = false
  const stopLock = new AbortController()
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
      ...(options.sync.producerIdPrefix === undefined
        ? {}
        : { producerIdPrefix: options.sync.producerIdPrefix }),
    })
  }
  if (options.streams) {
    const { topology, ...config } = options.streams
    streams = new KafkaStreams(topology, log, {
      ...config,
      ...(locks ? { membership: lockMembership(name, { pollMs: 250 }) } : {}),
      // Outputs to a synced topic wait in its outbox, as the page's sends do.
      ...(sync ? { producer: { ...config.producer, route: sync.route } } : {}),
    })
    const stores = namedStores(topology)
    for (const store of stores) {
      // A versioned store's image is its history, not the latest values a view holds: its view
      // folds the changelog, whose last record per key is the key's latest version.
      const versioned = topology.stores.get(store) instanceof VersionedKeyValueStore
      const snapshotLabel =
        config.snapshots === false || versioned
          ? {}
          : { snapshotLabel: storeSnapshotLabel(topology, store) }
      views.push({ ...changelogView(config.applicationId, store), ...snapshotLabel })
    }
    if (sync) {
      overlay = new PendingOverlay(log, streams, {
        applicationId: config.applicationId,
        synced: options.sync!.topics,
        stores,
      })
    }
  }

  const viewStores = new Set(views.map((v) => v.name))
  return {
    views,
    sync,
    streams,
    /** A view of the topology as of an input point (KafkaStreams.asOf); null for other views. */
    asOf(view: string, at: AsOf): Promise<ViewAsOf> | null {
      if (!streams || !viewStores.has(view)) return null
      return streams.asOf(at).then(({ offsets, stores }) => ({
        offsets,
        entries: stores
          .get(view)!
          .map(({ key, value, timestamp }): WireEntry => [JSON.stringify(key), value, timestamp]),
      }))
    },
    /** After the topics exist. */
    async start(): Promise<void> {
      if (sync) {
        await sync.prepare()
        const running = sync
        if (locks) {
          channel = new BroadcastChannel(`duality:${name}:sync`)
          channel.onmessage = (event: MessageEvent<SyncRelay>) => {
            if (event.data.type !== 'ask') running.relay(event.data)
          }
          // The syncing tab posts its status when it changes; a tab that starts later asks for
          // the current one, or it would show 'syncing' until the next change (while offline,
          // that may be never).
          channel.postMessage({ type: 'ask' } satisfies SyncRelay)
          // One tab syncs; the others hear its status and notices. The request is withdrawn
          // when this tab closes, so a lock granted late never starts sync on a closed log.
          syncDone = navigator.locks
            .request(`duality:${name}:sync`, { signal: stopLock.signal }, async () => {
              if (log.isClosed || closing) return
              channel!.onmessage = (event: MessageEvent<SyncRelay>) => {
                if (event.data.type !== 'ask') return
                void running.status().then(
                  (status) => !closing && channel?.postMessage(toRelay({ type: 'status', status })),
                  () => undefined,
                )
              }
              const off = running.subscribe((event) => {
                if (!closing) channel?.postMessage(toRelay(event))
              })
              await running.start()
              await new Promise<void>((resolve) => (releaseSync = resolve))
              off()
              await running.stop()
            })
            .then(
              () => undefined,
              () => undefined,
            )
        } else if (typeof window !== 'undefined' || typeof WorkerGlobalScope !== 'undefined') {
          // In a browser without Web Locks (an insecure origin), every tab would push the same
          // outbox: refuse, visibly, rather than duplicate.
          running.unavailable(
            new InvalidConfigError(
              'Sync needs the Web Locks API (a secure context: https or localhost) so that one tab syncs at a time',
            ),
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
      closing = true
      overlay?.close()
      await streams?.close()
      stopLock.abort()
      releaseSync?.()
      await syncDone
      if (!locks) await sync?.stop()
      channel?.close()
    },
  }
}
