import type { KeyValuePair, KeyValueStore } from './KeyValueStore.ts'
import type { VersionedKeyValueStore, VersionedRecord } from './VersionedKeyValueStore.ts'
import type { Windowed } from './windows.ts'

/** A store as the app queries it (Kafka's ReadOnlyKeyValueStore). */
export interface ReadOnlyKeyValueStore<K, V> {
  get(key: K): V | null
  all(): KeyValuePair<K, V>[]
  /** Entries whose keys lie in [from, to], in key order (keys compare by their JSON text). */
  range(from: K, to: K): KeyValuePair<K, V>[]
  approximateNumEntries(): number
  /**
   * Calls `listener` after every commit that changed the store, with the changed keys' new values
   * (null: deleted): one call per committed batch, never for uncommitted state. Returns an
   * unsubscribe function. (What the zustand bindings will build on.)
   */
  subscribe(listener: (changes: StoreChange<K, V>[]) => void): () => void
}

/** A windowed store as the app queries it (Kafka's ReadOnlyWindowStore). */
export interface ReadOnlyWindowStore<K, V> {
  fetch(key: K, timeFrom: number, timeTo: number): KeyValuePair<Windowed<K>, V>[]
  fetchAll(timeFrom: number, timeTo: number): KeyValuePair<Windowed<K>, V>[]
  subscribe(listener: (changes: StoreChange<Windowed<K>, V>[]) => void): () => void
}

/**
 * A versioned store as the app queries it (Kafka's IQv2 VersionedKeyQuery, KIP-960): the latest
 * version of a key, or the one valid at `asOfTimestamp` (null: none, a delete, or further back
 * than the store's history retention).
 */
export interface ReadOnlyVersionedKeyValueStore<K, V> {
  get(key: K, asOfTimestamp?: number): VersionedRecord<V> | null
  readonly historyRetentionMs: number
}

export interface StoreChange<K, V> {
  key: K
  value: V | null
}

export type StoreListeners = Map<string, Set<(changes: StoreChange<unknown, unknown>[]) => void>>

/** The read-only face of a store, with subscriptions kept in `listeners` (the runtime calls them). */
export function queryableStore<K, V>(
  store: KeyValueStore<K, V>,
  listeners: StoreListeners,
): ReadOnlyKeyValueStore<K, V> {
  const name = store.name
  return {
    get: (key) => store.get(key),
    all: () => store.all(),
    range: (from, to) => store.range(from, to),
    approximateNumEntries: () => store.approximateNumEntries(),
    subscribe(listener) {
      const set = listeners.get(name) ?? new Set()
      listeners.set(name, set)
      const wrapped = listener as (changes: StoreChange<unknown, unknown>[]) => void
      set.add(wrapped)
      return () => set.delete(wrapped)
    },
  }
}

/**
 * A windowed store's queries: a key's windows that start within [timeFrom, timeTo], or every
 * key's, in start-time order.
 */
export function windowView<K, V>(
  store: ReadOnlyKeyValueStore<Windowed<K>, V>,
): ReadOnlyWindowStore<K, V> {
  const windows = (key: K | undefined, from: number, to: number) =>
    store
      .all()
      .filter(
        ({ key: w }) =>
          w.window.start >= from &&
          w.window.start <= to &&
          (key === undefined || JSON.stringify(w.key) === JSON.stringify(key)),
      )
      .sort((a, b) => a.key.window.start - b.key.window.start)
  return {
    fetch: (key, timeFrom, timeTo) => windows(key, timeFrom, timeTo),
    fetchAll: (timeFrom, timeTo) => windows(undefined, timeFrom, timeTo),
    subscribe: store.subscribe,
  }
}

/** The read-only face of a versioned store. */
export function versionedView<K, V>(
  store: VersionedKeyValueStore<K, V>,
): ReadOnlyVersionedKeyValueStore<K, V> {
  return {
    get: (key, asOfTimestamp) => store.get(key, asOfTimestamp),
    historyRetentionMs: store.historyRetentionMs,
  }
}
