/** An entry of a timestamped key-value store (Kafka's ValueAndTimestamp). */
export interface ValueAndTimestamp<V> {
  value: V
  timestamp: number
}

/** Keys are compared by their JSON text (strings and numbers as themselves). */
export const keyId = (key: unknown): string =>
  typeof key === 'string' ? `s${key}` : `j${JSON.stringify(key)}`

/**
 * An in-memory key-value state store. It records what changed since the last `flushChanges()`,
 * which is what a runtime commits (and writes to the store's changelog) with each input batch.
 */
export class KeyValueStore<K = unknown, V = unknown> {
  private readonly entries = new Map<string, { key: K; entry: ValueAndTimestamp<V> }>()
  private readonly dirty = new Map<string, K>()
  /** While speculating: writes land here, reads look here first, and nothing else changes. */
  private overlay: Map<string, { key: K; entry: ValueAndTimestamp<V> | null }> | null = null

  constructor(readonly name: string) {}

  get(key: K): V | null {
    return this.getWithTimestamp(key)?.value ?? null
  }

  getWithTimestamp(key: K): ValueAndTimestamp<V> | null {
    const id = keyId(key)
    const over = this.overlay?.get(id)
    if (over) return over.entry
    return this.entries.get(id)?.entry ?? null
  }

  /** Starts a speculative run: until `endOverlay`, the store itself does not change. */
  beginOverlay(): void {
    this.overlay = new Map()
  }

  /** Ends a speculative run and returns what it would have changed. */
  endOverlay(): { key: K; entry: ValueAndTimestamp<V> | null }[] {
    const changes = [...(this.overlay?.values() ?? [])]
    this.overlay = null
    return changes
  }

  put(key: K, value: V | null, timestamp: number): void {
    const id = keyId(key)
    if (this.overlay) {
      this.overlay.set(id, { key, entry: value === null ? null : { value, timestamp } })
      return
    }
    if (value === null) this.entries.delete(id)
    else this.entries.set(id, { key, entry: { value, timestamp } })
    this.dirty.set(id, key)
  }

  /**
   * Sets an entry while restoring the store from its snapshot or changelog: not a change to
   * write back (a restore of 100,000 keys spent ~20-70 ms listing them only to drop the list).
   */
  restore(key: K, value: V | null, timestamp: number): void {
    const id = keyId(key)
    if (value === null) this.entries.delete(id)
    else this.entries.set(id, { key, entry: { value, timestamp } })
  }

  /** Forgets the changes since the last flush (after a restore: they are already in the changelog). */
  discardChanges(): void {
    this.dirty.clear()
  }

  delete(key: K): V | null {
    const old = this.get(key)
    this.put(key, null, 0)
    return old
  }

  /** Every entry, in key order (by the keys' JSON text). */
  all(): KeyValuePair<K, V>[] {
    let rows: [string, { key: K; entry: ValueAndTimestamp<V> | null }][] = [...this.entries]
    if (this.overlay) {
      const merged = new Map<string, { key: K; entry: ValueAndTimestamp<V> | null }>(rows)
      for (const [id, over] of this.overlay) merged.set(id, over)
      rows = [...merged]
    }
    return rows
      .filter(([, { entry }]) => entry !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, { key, entry }]) => ({ key, value: entry!.value }))
  }

  /** Empties the store (before restoring it from its changelog). */
  clear(): void {
    this.entries.clear()
    this.dirty.clear()
  }

  /** Entries whose keys lie in [from, to], in key order (by the keys' JSON text). */
  range(from: K, to: K): KeyValuePair<K, V>[] {
    const lo = keyId(from)
    const hi = keyId(to)
    return this.all().filter(({ key }) => {
      const id = keyId(key)
      return id >= lo && id <= hi
    })
  }

  /** Every committed entry, unsorted (what a snapshot stores; the overlay is not included). */
  committedEntries(): IterableIterator<{ key: K; entry: ValueAndTimestamp<V> }> {
    return this.entries.values()
  }

  /**
   * Every committed entry in key order: what a snapshot stores, so that a reader (a view) needs
   * no sort at boot. The sort is paid here, when a snapshot is written in the background.
   */
  *committedEntriesInKeyOrder(): IterableIterator<{ key: K; entry: ValueAndTimestamp<V> }> {
    // Ids compare as strings: the default sort, which is faster than any comparator.
    for (const id of [...this.entries.keys()].sort()) yield this.entries.get(id)!
  }

  approximateNumEntries(): number {
    return this.entries.size
  }

  /**
   * The keys changed since the last call, with their current entries (null: deleted). No
   * `timestamp`: the changelog records are stamped by the log's clock (a versioned store's carry
   * their versions' times).
   */
  flushChanges(): { key: K; entry: ValueAndTimestamp<V> | null; timestamp?: number }[] {
    const out = [...this.dirty.entries()].map(([id, key]) => ({
      key,
      entry: this.entries.get(id)?.entry ?? null,
    }))
    this.dirty.clear()
    return out
  }
}

export interface KeyValuePair<K, V> {
  key: K
  value: V
}
