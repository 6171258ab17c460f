import { useEffect, useState, useSyncExternalStore } from 'react'
import type { SyncStatus } from '../sync/Sync.ts'
import { createSyncStore } from '../zustand/createSyncStore.ts'
import { useClient } from './DualityProvider.ts'

/**
 * The worker's sync status (null until known, or when the worker syncs nothing): connection
 * ('online' | 'offline' | 'syncing') and, per synced topic, `pending`, `lag` and `upToDate`.
 * One store per component, opened on mount and closed on unmount.
 */
export function useSyncStatus(): SyncStatus | null {
  const client = useClient()
  // Created in an effect, not during render: a store holds a subscription in the worker, which
  // a render that React throws away (StrictMode, Suspense) would leak.
  const [store, setStore] = useState<ReturnType<typeof createSyncStore> | null>(null)
  useEffect(() => {
    const created = createSyncStore(client)
    setStore(created)
    return () => created.close()
  }, [client])
  const current = store ?? nullStore
  return useSyncExternalStore(current.subscribe, current.getState, current.getState)
}

const nullStore = {
  getState: (): SyncStatus | null => null,
  subscribe: () => () => undefined,
}
