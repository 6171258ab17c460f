import { KTable, type Materialized } from './KTable.ts'
import { createNode, type Change, type KeyValue, type ProcessorNode } from './processor.ts'
import type { StreamsBuilder } from './StreamsBuilder.ts'

/**
 * Kafka Streams' KGroupedTable: a table re-grouped by a new key. Each update of the source table
 * first subtracts the old value from its old group, then adds the new value to its new group: two
 * updates, as Kafka emits them with caching off.
 */
export class KGroupedTable<K, V> {
  constructor(
    private readonly builder: StreamsBuilder,
    private readonly parent: ProcessorNode,
    private readonly selector: (key: unknown, value: unknown) => KeyValue<K, V>,
  ) {}

  count(options: { materialized?: Materialized } = {}): KTable<K, number> {
    return this.aggregate(
      () => 0,
      (_k, _v, n) => n + 1,
      (_k, _v, n) => n - 1,
      options,
    )
  }

  reduce(
    adder: (aggregate: V, value: V) => V,
    subtractor: (aggregate: V, value: V) => V,
    options: { materialized?: Materialized } = {},
  ): KTable<K, V> {
    return this.fold<V>(
      (_k, v, old) => (old === null ? v : adder(old, v)),
      (_k, v, old) => subtractor(old as V, v),
      options,
    )
  }

  aggregate<VA>(
    initializer: () => VA,
    adder: (key: K, value: V, aggregate: VA) => VA,
    subtractor: (key: K, value: V, aggregate: VA) => VA,
    options: { materialized?: Materialized } = {},
  ): KTable<K, VA> {
    return this.fold<VA>(
      (k, v, old) => adder(k, v, old ?? initializer()),
      (k, v, old) => subtractor(k, v, old ?? initializer()),
      options,
    )
  }

  private fold<VA>(
    add: (key: K, value: V, old: VA | null) => VA,
    subtract: (key: K, value: V, old: VA | null) => VA,
    options: { materialized?: Materialized },
  ): KTable<K, VA> {
    const builder = this.builder
    const name = options.materialized ?? builder.nextName('KTABLE-AGGREGATE-STATE-STORE')
    const store = builder.topology.store(name)
    const node = createNode(builder.nextName('KTABLE-AGGREGATE'), (r, emit) => {
      const change = r.value as Change<unknown>
      const apply = (pair: KeyValue<K, V>, op: typeof add) => {
        if (pair.key === null || pair.key === undefined) return
        const old = store.getWithTimestamp(pair.key) as { value: VA; timestamp: number } | null
        const value = op(pair.key, pair.value, old?.value ?? null)
        const timestamp = Math.max(r.timestamp, old?.timestamp ?? -Infinity)
        store.put(pair.key, value, timestamp)
        emit({
          ...r,
          key: pair.key,
          timestamp,
          value: { newValue: value, oldValue: old?.value ?? null },
        })
      }
      if (change.oldValue !== null) apply(this.selector(r.key, change.oldValue), subtract)
      if (change.newValue !== null) apply(this.selector(r.key, change.newValue), add)
    })
    // Re-keyed by the selector: Kafka repartitions here.
    node.keyChanging = true
    this.parent.children.push(node)
    return new KTable<K, VA>(builder, node, name)
  }
}
