import { GlobalKTable } from './GlobalKTable.ts'
import { KStream } from './KStream.ts'
import { KTable, tableSource, type Materialized } from './KTable.ts'
import { createNode } from './processor.ts'
import { isVersionedSupplier, type VersionedStoreSupplier } from './Stores.ts'
import { Topology } from './Topology.ts'
import { topicName, type TopicDefinition } from '../log/TopicDefinition.ts'

/** Kafka Streams' StreamsBuilder: declare streams and tables over topics, then build(). */
export class StreamsBuilder {
  readonly topology = new Topology()
  private counter = 0

  /** A unique processor or store name, in Kafka's KSTREAM-FILTER-0000000001 style. */
  nextName(prefix: string): string {
    return `${prefix}-${String(this.counter++).padStart(10, '0')}`
  }

  /** A stream over a typed topic (`defineTopic`): its keys and values are the schema's types. */
  stream<V, K>(topic: TopicDefinition<V, K>): KStream<K, V>
  stream<K = unknown, V = unknown>(topic: string | string[]): KStream<K, V>
  stream<K, V>(topic: string | string[] | TopicDefinition<V, K>): KStream<K, V> {
    const node = createNode(this.nextName('KSTREAM-SOURCE'), (record, emit) => emit(record))
    for (const t of Array.isArray(topic) ? topic : [topic])
      this.topology.addSource(topicName(t), node)
    return new KStream<K, V>(this, node)
  }

  /**
   * A table over a (usually compacted) topic: the latest value per key; null deletes. Materialized
   * in a versioned store (`Materialized.as(Stores.persistentVersionedKeyValueStore(name, ms))`),
   * it keeps each key's history, and stream-table joins read it as of each record's time.
   */
  table<V, K>(
    topic: TopicDefinition<V, K>,
    options?: { materialized?: Materialized | VersionedStoreSupplier },
  ): KTable<K, V>
  table<K = unknown, V = unknown>(
    topic: string,
    options?: { materialized?: Materialized | VersionedStoreSupplier },
  ): KTable<K, V>
  table<K, V>(
    topic: string | TopicDefinition<V, K>,
    options: { materialized?: Materialized | VersionedStoreSupplier } = {},
  ): KTable<K, V> {
    const store = this.sourceStore(options.materialized, 'KTABLE-SOURCE-STATE-STORE')
    const node = tableSource(this.nextName('KTABLE-SOURCE'), store, this.topology)
    this.topology.addSource(topicName(topic), node)
    return new KTable<K, V>(this, node, store.name)
  }

  /** A table every task sees whole, for stream lookups by any key (no co-partitioning needed). */
  globalTable<K = unknown, V = unknown>(
    topic: string,
    options: { materialized?: Materialized } = {},
  ): GlobalKTable<K, V> {
    const store = this.topology.store(
      typeof options.materialized === 'string'
        ? options.materialized
        : this.nextName('GLOBALKTABLE-STATE-STORE'),
    )
    this.topology.addSource(
      topic,
      tableSource(this.nextName('KTABLE-SOURCE'), store, this.topology),
    )
    return new GlobalKTable<K, V>(store as never)
  }

  /** The store a table source materializes into: a plain one by name, or a versioned one. */
  sourceStore(materialized: Materialized | VersionedStoreSupplier | undefined, prefix: string) {
    if (isVersionedSupplier(materialized))
      return this.topology.versionedStore(materialized.name, materialized.historyRetentionMs)
    return this.topology.store(
      typeof materialized === 'string' ? materialized : this.nextName(prefix),
    )
  }

  build(): Topology {
    return this.topology
  }
}
