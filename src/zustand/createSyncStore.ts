import { proxy } from 'comlink'
import { createStore, type StoreApi } from 'zustand/vanilla'
import type { Client, RemoteNamespace } from '../worker/connect.ts'
import type { PageSyncStatus, SyncNotice, WorkerApi } from '../worker/workerApi.ts'

/** A read-only zustand store of the worker's sync status (null: the worker syncs nothing). */
export interface SyncStore extends Omit<StoreApi<PageSyncStatus | null>, 'setState'> {
  /** Resolves once the store holds the worker's first status. */
  readonly ready: Promise<void>
  /**
   * Calls `listener` when the server refuses a local record for good (it left the outbox: show
   * the app's error) or a synced topic was copied again after a server reset.
   */
  onNotice(listener: (notice: SyncNotice) => void): () => void
  /**
   * Removes refusals the app has dealt with from `topics[topic].rejections` (in every tab), each
   * named by its outbox partition and offset; without `which`, all of the topic's.
   */
  dismiss(topic: string, which?: readonly { partition: number; offset: number }[]): Promise<void>
  close(): void
}

/**
 * The sync status for the UI: connection ('online' | 'offline' | 'syncing'), and per synced topic
 * the pending local sends, the replication lag, whether the replica is up to date and the sends
 * the server refused (`rejections`, until dismissed). Updated by the worker whenever it changes.
 *
 *   const sync = createSyncStore(client)
 *   sync.subscribe((s) => badge.textContent = s ? `${s.connection}` : '')
 */
export function createSyncStore(client: Client): SyncStore {
  const remote = client.remote.sync as unknown as RemoteNamespace<WorkerApi['sync']>
  const store = createStore<PageSyncStatus | null>()(() => null)
  let closed = false
  const id = remote.subscribe(
    proxy((status: PageSyncStatus) => {
      if (!closed) store.setState(status, true)
    }),
  )
  const ready = remote.status().then((status) => {
    // A status pushed meanwhile is newer than this one.
    if (!closed && store.getState() === null) store.setState(status, true)
  })
  ready.catch(() => undefined)
  const notices = new Set<(notice: SyncNotice) => void>()
  const noticeId = remote.subscribeEvents(
    proxy((notice: SyncNotice) => {
      for (const listener of notices) listener(notice)
    }),
  )
  return {
    ready,
    onNotice(listener) {
      notices.add(listener)
      return () => notices.delete(listener)
    },
    dismiss: (topic, which) =>
      remote.dismiss(
        topic,
        which === undefined
          ? undefined
          : which.map(({ partition, offset }) => ({ partition, offset })),
      ),
    getState: store.getState,
    getInitialState: store.getInitialState,
    subscribe: store.subscribe,
    close() {
      if (closed) return
      closed = true
      notices.clear()
      for (const pending of [id, noticeId])
        void pending.then((i) => remote.unsubscribe(i)).catch(() => undefined)
    },
  }
}
