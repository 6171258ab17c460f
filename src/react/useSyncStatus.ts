import { useEffect, useState, useSyncExternalStore } from 'react'
import type { PageSyncStatus } from '../worker/workerApi.ts'
import { createSyncStore, type SyncStore } from '../zustand/createSyncStore.ts'
import { useClient } from './DualityProvider.ts'

/**
 * The worker's sync status (null until known, or when the worker syncs nothing): connection
 * ('online' | 'offline' | 'syncing') and, per synced topic, `pending`, `lag`, `upToDate` and
 * `rejections`; and `storage` (persisted, usage, quota, a refused write). One store per component, opened on mount and closed on unmount.
 */
export function useSyncStatus(): PageSyncStatus | null {
  const current = useSyncStore() ?? nullStore
  return useSyncExternalStore(current.subscribe, current.getState, current.getState)
}

/** A sync store of the provider's client for this component (null during its first render). */
export function useSyncStore(): SyncStore | null {
  const client = useClient()
  // Created in an effect, not during render: a store holds a subscription in the worker, which
  // a render that React throws away (StrictMode, Suspense) would leak.
  const [store, setStore] = useState<SyncStore | null>(null)
  useEffect(() => {
    const created = createSyncStore(client)
    setStore(created)
    return () => created.close()
  }, [client])
  return store
}

const nullStore = {
  getState: (): PageSyncStatus | null => null,
  subscribe: () => () => undefined,
}
