import type { KeyValueStore } from './KeyValueStore.ts'

/** Kafka Streams' GlobalKTable: a table every task sees whole, joined by a key the stream picks. */
export class GlobalKTable<K, V> {
  constructor(readonly store: KeyValueStore<K, V>) {}

  get storeName(): string {
    return this.store.name
  }
}
