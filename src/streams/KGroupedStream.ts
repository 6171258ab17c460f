import { KTable, type Materialized } from './KTable.ts'
import { createNode, type Change, type ProcessorNode } from './processor.ts'
import { SessionWindowedKStream } from './SessionWindowedKStream.ts'
import type { StreamsBuilder } from './StreamsBuilder.ts'
import { TimeWindowedKStream } from './TimeWindowedKStream.ts'
import { SlidingWindowedKStream } from './SlidingWindowedKStream.ts'
import { SessionWindows, SlidingWindows, type TimeWindows } from './windows.ts'

/** Kafka Streams' KGroupedStream: records grouped by key, ready to aggregate into a KTable. */
export class KGroupedStream<K, V> {
  constructor(
    private readonly builder: StreamsBuilder,
    private readonly parent: ProcessorNode,
  ) {}

  /** Aggregates per time window (tumbling or hopping). */
  windowedBy(windows: TimeWindows): TimeWindowedKStream<K, V>
  /** Aggregates per session of activity. */
  windowedBy(windows: SessionWindows): SessionWindowedKStream<K, V>
  /** Aggregates per sliding window (records within a time difference of each other). */
  windowedBy(windows: SlidingWindows): SlidingWindowedKStream<K, V>
  windowedBy(
    windows: TimeWindows | SessionWindows | SlidingWindows,
  ): TimeWindowedKStream<K, V> | SessionWindowedKStream<K, V> | SlidingWindowedKStream<K, V> {
    if (windows instanceof SessionWindows)
      return new SessionWindowedKStream<K, V>(this.builder, this.parent, windows)
    if (windows instanceof SlidingWindows)
      return new SlidingWindowedKStream<K, V>(this.builder, this.parent, windows)
    return new TimeWindowedKStream<K, V>(this.builder, this.parent, windows)
  }

  count(options: { materialized?: Materialized } = {}): KTable<K, number> {
    return this.aggregate(
      () => 0,
      (_key, _value, count) => count + 1,
      options,
    )
  }

  reduce(
    reducer: (aggregate: V, value: V) => V,
    options: { materialized?: Materialized } = {},
  ): KTable<K, V> {
    return this.fold<V>((_key, value, old) => (old === null ? value : reducer(old, value)), options)
  }

  aggregate<VA>(
    initializer: () => VA,
    aggregator: (key: K, value: V, aggregate: VA) => VA,
    options: { materialized?: Materialized } = {},
  ): KTable<K, VA> {
    return this.fold<VA>((key, value, old) => aggregator(key, value, old ?? initializer()), options)
  }

  /**
   * Records with a null key or value are skipped, as Kafka does. The result's timestamp is the
   * largest of its inputs' (Kafka's timestamped stores), and every update is forwarded.
   */
  private fold<VA>(
    step: (key: K, value: V, old: VA | null) => VA,
    options: { materialized?: Materialized },
  ): KTable<K, VA> {
    const builder = this.builder
    const name = options.materialized ?? builder.nextName('KSTREAM-AGGREGATE-STATE-STORE')
    const store = builder.topology.store(name)
    const node = createNode(builder.nextName('KSTREAM-AGGREGATE'), (r, emit) => {
      if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return
      const old = store.getWithTimestamp(r.key) as { value: VA; timestamp: number } | null
      const value = step(r.key as K, r.value as V, old?.value ?? null)
      const timestamp = Math.max(r.timestamp, old?.timestamp ?? -Infinity)
      store.put(r.key, value, timestamp)
      emit({
        ...r,
        timestamp,
        value: { newValue: value, oldValue: old?.value ?? null } satisfies Change<VA>,
      })
    })
    this.parent.children.push(node)
    return new KTable<K, VA>(builder, node, name)
  }
}
