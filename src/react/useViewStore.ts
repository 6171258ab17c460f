import { useEffect } from 'react'
import type { Client } from '../worker/connect.ts'
import { createViewStore, type ViewStore, type ViewStoreOptions } from '../zustand/index.ts'
import { useClient } from './DualityProvider.ts'

interface Cached {
  store: ViewStore<never, never>
  mounted: number
}

/** One store per client, view and range for all components: they share its state objects. */
const cache = new WeakMap<Client, Map<string, Cached>>()

/**
 * The zustand store of a view for the components that use it, closed when the last of them
 * unmounts (a task later, so StrictMode's unmount-remount and a quick re-mount keep it).
 */
export function useViewStore<K = unknown, V = unknown>(
  name: string,
  options: ViewStoreOptions<K> = {},
): ViewStore<K, V> {
  const client = useClient()
  const id = JSON.stringify([name, options.range?.from, options.range?.to])
  let byId = cache.get(client)
  if (!byId) cache.set(client, (byId = new Map()))
  let cached = byId.get(id)
  if (!cached) {
    cached = { store: createViewStore<never, never>(client, name, options as never), mounted: 0 }
    byId.set(id, cached)
  }
  const entry = cached
  const stores = byId
  useEffect(() => {
    entry.mounted++
    return () => {
      entry.mounted--
      setTimeout(() => {
        if (entry.mounted > 0 || stores.get(id) !== entry) return
        stores.delete(id)
        entry.store.close()
      }, 0)
    }
  }, [entry, stores, id])
  return entry.store as unknown as ViewStore<K, V>
}
