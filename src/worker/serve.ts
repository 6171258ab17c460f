/// <reference lib="webworker" />
import { expose, type Endpoint } from 'comlink'
import type { TopicSpec } from '../log/Admin.ts'
import { Log, type LogOptions } from '../log/Log.ts'
import type { LogStorage } from '../log/LogStorage.ts'
import { deferredStorage } from '../storage/deferredStorage.ts'
import { idbStorage } from '../storage/idb/idbStorage.ts'
import type { ViewSpec } from './views/createViewsApi.ts'
import { installErrorTransfer } from './errorTransfer.ts'
import type { KafkaStreams } from '../streams/KafkaStreams.ts'
import type { ChangelogPreview } from '../streams/ChangelogPreview.ts'
import type { Sync } from '../sync/Sync.ts'
import { lockMembership, type LockMembershipOptions } from './lockMembership.ts'
import { serveApp, type StreamsOptions, type SyncConfig } from './serveApp.ts'
import { tabBridge } from './tabBridge.ts'
import { createWorkerApi } from './workerApi.ts'

export interface ServeOptions extends Omit<LogOptions, 'storage'> {
  /** The database: every tab's worker that serves the same name shares one log. */
  name: string
  /**
   * Storage: IndexedDB under `name` (the default), with `{ persist: true }` asking the browser to
   * keep it under storage pressure (the page's `connect()` calls `navigator.storage.persist()`,
   * which only a page may); or any LogStorage.
   */
  storage?: LogStorage | StorageOptions
  /** Topics to create at start if they do not exist yet. */
  topics?: TopicSpec[]
  /** Consumer groups across tabs (Web Locks); `false` makes every consumer own all partitions. */
  groups?: LockMembershipOptions | false
  /**
   * Materialized views the page can open as zustand stores, each a mirror of a changelog topic:
   * `views: [changelogView('my-app', 'totals')]` (duality/zustand's createViewStore).
   */
  views?: ViewSpec[]
  /**
   * A topology to run over the log: one KafkaStreams instance group across tabs (one processes,
   * the others stand by). Its named stores (Materialized) become views unless `views` says more.
   */
  streams?: StreamsOptions
  /** Topics (declared in `topics`) that follow a server log, with outbox and optimistic views. */
  sync?: SyncConfig
  /** Where to expose the API (default: the worker's global scope). */
  endpoint?: Endpoint
}

/** Options of the default storage, IndexedDB under the served name. */
export interface StorageOptions {
  /** Ask the browser to make this origin's storage persistent (not evicted under pressure). */
  persist?: boolean
}

const isLogStorage = (storage: LogStorage | StorageOptions): storage is LogStorage =>
  typeof (storage as LogStorage).read === 'function'

export interface Served {
  log: Log
  /** The topology's instance in this tab (when `streams` was given). */
  streams: KafkaStreams | undefined
  /** This tab's sync (when `sync` was given); only one tab's pulls and pushes at a time. */
  sync: Sync | undefined
  /**
   * Makes every tab's views follow a KafkaStreams instance you run on `log` yourself before its
   * commits, as they follow the one `serve({ streams })` runs (KafkaStreams.onChangelogPreview):
   * without it they move only once its changelog has committed. Returns a detach.
   */
  attach(streams: KafkaStreams): () => void
  close(): Promise<void>
}

/**
 * Sets up the log in the user's own worker file and exposes it to the page over comlink:
 *
 *   // my.worker.ts
 *   import { serve } from 'duality/worker'
 *   serve({ name: 'my-app', topics: [{ topic: 'todos', numPartitions: 3 }] })
 *
 * Each tab runs its own worker; they coordinate through IndexedDB (one order per partition),
 * BroadcastChannel (new-record notices) and Web Locks (consumer groups), so no SharedWorker is needed.
 */
export function serve(options: ServeOptions): Promise<Served> {
  installErrorTransfer()
  const { name, topics, groups, endpoint, views, streams, sync, ...rest } = options
  const { storage: given, ...logOptions } = rest
  const storage = given && isLogStorage(given) ? given : undefined
  const persist = given !== undefined && !isLogStorage(given) && given.persist === true
  // Expose at once (a message that arrives before the listener would be lost); calls wait below.
  const log = new Log({
    ...logOptions,
    storage: deferredStorage(storage ? Promise.resolve(storage) : idbStorage({ name })),
  })
  const bridge = tabBridge(log, name)
  const locks = typeof navigator !== 'undefined' && 'locks' in navigator
  const membership =
    groups === false || !locks ? undefined : () => lockMembership(name, groups || {})
  const app = serveApp(log, name, topics ?? [], {
    ...(streams ? { streams } : {}),
    ...(sync ? { sync } : {}),
  })
  const topicsReady = (async () => {
    if (topics?.length) await log.admin().createTopics({ topics, ifNotExists: true })
  })()
  topicsReady.catch(() => undefined)
  // Set once the worker API exists (below); the topology starts after the views' first messages.
  let viewsOpened: () => Promise<void> = () => Promise.resolve()
  const ready = topicsReady
    .then(() => (app.sync ? undefined : viewsOpened()))
    .then(() => app.start())
  // Views read their changelogs (and snapshots) themselves, as every other tab's do: they need
  // the topics, not this tab's topology restored and running, which with a large store took
  // longer than the view's own boot (the boot bench: 1.8-2.3 s to a 100k-key view, ~1.3-1.8 s
  // without the wait). Under sync they wait: the pending overlay speculates on the restored store,
  // and a view shown before it would flash without the device's unsynced sends.
  const viewsReady = app.sync ? ready : topicsReady
  // Every tab serves the log, but the background cleaner must run once: in whichever worker
  // holds the cleaner lock (the next one takes over when that tab closes).
  let releaseCleaner: (() => void) | undefined
  if (locks) {
    void navigator.locks
      .request(`duality:${name}:cleaner`, async () => {
        await ready.catch(() => undefined)
        if (log.isClosed) return
        log.cleaner.start()
        await new Promise<void>((resolve) => (releaseCleaner = resolve))
      })
      .catch(() => undefined)
  } else {
    void ready.then(
      () => log.cleaner.start(),
      () => undefined,
    )
  }
  // Reported through every call and through serve()'s promise; never unhandled.
  ready.catch(() => undefined)
  // Changelog previews: this tab's topology's (shown here and told to the other tabs) and theirs.
  const previewListeners = new Set<(preview: ChangelogPreview) => void>()
  const showPreview = (preview: ChangelogPreview) => {
    for (const listener of previewListeners) listener(preview)
  }
  const offBridgePreviews = bridge.onPreview(showPreview)
  const attach = (instance: KafkaStreams) =>
    instance.onChangelogPreview((preview) => {
      showPreview(preview)
      bridge.announce(preview)
    })
  const detachOwn = app.streams ? attach(app.streams) : undefined
  const api = createWorkerApi(log, {
    previews: (listener) => {
      previewListeners.add(listener)
      return () => previewListeners.delete(listener)
    },
    ...(membership ? { membership } : {}),
    topicsChanged: bridge.topicsChanged,
    views: [...app.views, ...(views ?? [])],
    asOf: app.asOf,
    ...(app.sync ? { sync: app.sync } : {}),
    ...(persist ? { persist: true } : {}),
  })
  // Views first: the subscriptions a page made while the database opened read, decode and post
  // their snapshots before the topology's restore takes the worker's one thread (both read the
  // same image; the restore then reuses the decode). The boot bench's 100k-key view waited
  // ~250 ms behind the restore's decode and fill. One macrotask lets those calls, released by
  // topicsReady, reach the views API first.
  viewsOpened = () =>
    new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => api.views.opened())
  expose(
    { ...gated(api, ready), views: gated(api.views, viewsReady) },
    endpoint ?? (self as unknown as Endpoint),
  )
  const served: Served = {
    log,
    streams: app.streams,
    sync: app.sync,
    attach,
    async close() {
      detachOwn?.()
      offBridgePreviews()
      bridge.close()
      api.views.close()
      await app.close()
      await log.close()
      releaseCleaner?.()
    },
  }
  const result = ready.then(() => served)
  // Marked handled: a worker file may call serve() without awaiting it. Its calls still fail.
  result.catch(() => undefined)
  return result
}

/** The same API, each function waiting for `ready` first (two levels deep, as the API is). */
function gated<T extends object>(api: T, ready: Promise<unknown>): T {
  const wrap = (value: unknown): unknown => {
    if (typeof value === 'function') {
      const fn = value as (...args: unknown[]) => unknown
      return async (...args: unknown[]) => {
        await ready
        return fn(...args)
      }
    }
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wrap(v)]))
    }
    return value
  }
  return wrap(api) as T
}
