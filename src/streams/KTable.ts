import { advanceStreamTime, restoreStreamTime } from './streamTime.ts'
import { InvalidArgumentError } from '../log/errors.ts'
import { EndIndex } from './EndIndex.ts'
import { KGroupedTable } from './KGroupedTable.ts'
import { foreignKeyJoin } from './foreignKeyJoin.ts'
import { tableTableJoin, type Joiner } from './joins.ts'
import type { KeyValueStore } from './KeyValueStore.ts'
import type { VersionedStoreSupplier } from './Stores.ts'
import {
  PUT_RETURN_CODE_NOT_PUT,
  PUT_RETURN_CODE_VALID_TO_UNDEFINED,
  VersionedKeyValueStore,
} from './VersionedKeyValueStore.ts'
import { KStream } from './KStream.ts'
import {
  createNode,
  type Change,
  type KeyValue,
  type ProcessorNode,
  type StreamRecord,
} from './processor.ts'
import type { StreamsBuilder } from './StreamsBuilder.ts'
import type { Topology } from './Topology.ts'
import type { Window } from './windows.ts'

/** Suppression configs (Kafka's Suppressed): only final results, when windows close. */
export const Suppressed = {
  untilWindowCloses: (_buffer: 'unbounded' = 'unbounded') =>
    ({ type: 'untilWindowCloses' }) as const,
}
export type Suppressed = ReturnType<typeof Suppressed.untilWindowCloses>

/** A store name for interactive queries (Kafka's Materialized.as(name)). */
export type Materialized = string

/**
 * Kafka's Materialized.as: a store name, or (for a table source: `builder.table`, `toTable`) a
 * versioned store from `Stores.persistentVersionedKeyValueStore`.
 */
export const Materialized = {
  as<S extends string | VersionedStoreSupplier>(store: S): S {
    return store
  },
}

/**
 * The node that turns records into a table: null keys are dropped, a null value deletes the key,
 * and each update is forwarded as a Change (caching off: every update, as Kafka's test driver shows).
 */
export function tableSource(
  name: string,
  store: KeyValueStore | VersionedKeyValueStore,
  topology: Topology,
): ProcessorNode {
  if (store instanceof VersionedKeyValueStore) return versionedTableSource(name, store, topology)
  return createNode(name, (r, emit) => {
    if (r.key === null || r.key === undefined) return
    const old = store.getWithTimestamp(r.key)
    const value = r.value ?? null
    store.put(r.key, value, r.timestamp)
    if (value === null && old === null) return
    emit({
      ...r,
      value: { newValue: value, oldValue: old?.value ?? null } satisfies Change<unknown>,
    })
  })
}

/**
 * A table source over a versioned store (KIP-914): every update is put into the key's history at
 * its timestamp, but only one that becomes the key's latest version is forwarded. Kafka forwards
 * the others flagged as not latest, and every stateful processor after it (joins, aggregations)
 * drops them; duality does not forward them at all. A put older than the history retention is
 * dropped by the store, and counted as dropped.
 */
function versionedTableSource(
  name: string,
  store: VersionedKeyValueStore,
  topology: Topology,
): ProcessorNode {
  return createNode(name, (r, emit) => {
    if (r.key === null || r.key === undefined) return
    const old = store.latest(r.key)
    const value = r.value ?? null
    const code = store.put(r.key, value, r.timestamp)
    if (code !== PUT_RETURN_CODE_VALID_TO_UNDEFINED) {
      if (code === PUT_RETURN_CODE_NOT_PUT) topology.dropped(name)
      return
    }
    if (value === null && old === null) return
    emit({ ...r, value: { newValue: value, oldValue: old } satisfies Change<unknown> })
  })
}

/** Kafka Streams' KTable: a changelog stream of updates per key. */
export class KTable<K, V> {
  constructor(
    readonly builder: StreamsBuilder,
    readonly node: ProcessorNode,
    /** The store holding the table, for interactive queries. */
    readonly storeName: string,
  ) {}

  /**
   * Set on windowed tables (and the tables derived from them): how long after a window's end it
   * stays open to updates. The window's grace, plus the inactivity gap for session windows, as
   * Kafka's GraphGraceSearchUtil gives suppress.
   */
  windowGraceMs: number | undefined

  private then<V2>(
    prefix: string,
    map: (change: Change<V>, key: K) => Change<V2> | null,
    options: { materialized?: Materialized },
  ): KTable<K, V2> {
    const builder = this.builder
    const name = options.materialized ?? builder.nextName(`${prefix}-STATE-STORE`)
    const store = builder.topology.store(name)
    const node = createNode(builder.nextName(prefix), (r, emit) => {
      const change = map(r.value as Change<V>, r.key as K)
      if (!change || (change.newValue === null && change.oldValue === null)) return
      store.put(r.key, change.newValue, r.timestamp)
      emit({ ...r, value: change })
    })
    this.node.children.push(node)
    const table = new KTable<K, V2>(builder, node, name)
    // filter / mapValues keep the windows, so suppress still finds their close time (Kafka walks
    // up the graph to the windowed aggregation for it).
    table.windowGraceMs = this.windowGraceMs
    return table
  }

  /** Keys whose value fails the predicate are deleted from the result (a tombstone is forwarded). */
  filter(
    predicate: (key: K, value: V) => boolean,
    options: { materialized?: Materialized } = {},
  ): KTable<K, V> {
    const keep = (key: K, v: V | null): V | null => (v !== null && predicate(key, v) ? v : null)
    return this.then<V>(
      'KTABLE-FILTER',
      (c, k) => ({ newValue: keep(k, c.newValue), oldValue: keep(k, c.oldValue) }),
      options,
    )
  }

  filterNot(
    predicate: (key: K, value: V) => boolean,
    options: { materialized?: Materialized } = {},
  ): KTable<K, V> {
    return this.filter((k, v) => !predicate(k, v), options)
  }

  mapValues<V2>(
    mapper: (value: V, key: K) => V2,
    options: { materialized?: Materialized } = {},
  ): KTable<K, V2> {
    const map = (k: K, v: V | null) => (v === null ? null : mapper(v, k))
    return this.then(
      'KTABLE-MAPVALUES',
      (c, k) => ({ newValue: map(k, c.newValue), oldValue: map(k, c.oldValue) }),
      options,
    )
  }

  /**
   * Holds back a windowed table's updates and emits each window's final value once the window
   * closes (end + grace <= stream time; end + gap + grace for sessions): Kafka's
   * suppress(untilWindowCloses(unbounded())). Retracted windows (merged sessions) are never
   * emitted.
   */
  suppress(_config: Suppressed): KTable<K, V> {
    const grace = this.windowGraceMs
    if (grace === undefined) {
      throw new InvalidArgumentError(
        'suppress(untilWindowCloses) needs a windowed table (windowedBy(...) aggregate)',
      )
    }
    const builder = this.builder
    const topology = builder.topology
    const name = builder.nextName('KTABLE-SUPPRESS')
    // The buffer is a store (changelogged by a runtime), so held-back updates survive a restart.
    const buffer = topology.store(`${name}-buffer`)
    const meta = topology.store(`${name}-meta`)
    const pending = new EndIndex<unknown>()
    let streamTime = -Infinity
    topology.onRestore(() => {
      pending.clear()
      streamTime = restoreStreamTime(meta)
      for (const { key } of buffer.all())
        pending.add((key as { window: Window }).window.end, JSON.stringify(key), key)
    })
    const node = createNode(name, (r, emit) => {
      streamTime = advanceStreamTime(meta, streamTime, r.timestamp)
      const window = (r.key as { window: Window }).window
      if (buffer.get(r.key) === null) pending.add(window.end, JSON.stringify(r.key), r.key)
      buffer.put(r.key, { value: r.value, timestamp: r.timestamp, headers: r.headers }, r.timestamp)
      for (const key of pending.takeUpTo(streamTime - grace)) {
        const held = buffer.get(key) as {
          value: Change<V>
          timestamp: number
          headers: StreamRecord['headers']
        } | null
        if (!held) continue
        buffer.delete(key)
        if (held.value.newValue !== null)
          emit({ key, value: held.value, timestamp: held.timestamp, headers: held.headers })
      }
    })
    this.node.children.push(node)
    const table = new KTable<K, V>(builder, node, this.storeName)
    table.windowGraceMs = grace
    return table
  }

  /** Inner join with another table on the key: a row exists while both sides have the key. */
  join<V2, VR>(
    other: KTable<K, V2>,
    joiner: (value: V, otherValue: V2) => VR,
    options: { materialized?: Materialized } = {},
  ): KTable<K, VR> {
    return this.joinWith('inner', other, joiner as Joiner<unknown, unknown, unknown>, options)
  }

  /**
   * Foreign-key join (KIP-213): each row of this table points, through `foreignKey`, at a row of
   * `other`; the result is keyed like this table. `kind` 'left' keeps rows whose target is missing.
   */
  joinOnForeignKey<KO, VO, VR>(
    other: KTable<KO, VO>,
    foreignKey: (value: V) => KO,
    joiner: (value: V, otherValue: VO) => VR,
    options: { materialized?: Materialized; kind?: 'inner' | 'left' } = {},
  ): KTable<K, VR> {
    const builder = this.builder
    const topology = builder.topology
    const name = options.materialized ?? builder.nextName('KTABLE-FK-JOIN-STATE-STORE')
    const join = foreignKeyJoin(
      {
        left: builder.nextName('KTABLE-FK-JOIN-THIS'),
        right: builder.nextName('KTABLE-FK-JOIN-OTHER'),
      },
      {
        left: topology.store(this.storeName),
        right: topology.store(other.storeName),
        result: topology.store(name),
      },
      foreignKey as (value: unknown) => unknown,
      joiner as (l: unknown, r: unknown) => unknown,
      options.kind ?? 'inner',
      topology,
    )
    this.node.children.push(join.left)
    other.node.children.push(join.right)
    return new KTable<K, VR>(builder, join.out, name)
  }

  /** Left join: a row for every key of this table, joined with null where the other has none. */
  leftJoin<V2, VR>(
    other: KTable<K, V2>,
    joiner: (value: V, otherValue: V2 | null) => VR,
    options: { materialized?: Materialized } = {},
  ): KTable<K, VR> {
    return this.joinWith('left', other, joiner as Joiner<unknown, unknown, unknown>, options)
  }

  /** Outer join: a row for every key of either table. */
  outerJoin<V2, VR>(
    other: KTable<K, V2>,
    joiner: (value: V | null, otherValue: V2 | null) => VR,
    options: { materialized?: Materialized } = {},
  ): KTable<K, VR> {
    return this.joinWith('outer', other, joiner as Joiner<unknown, unknown, unknown>, options)
  }

  private joinWith<VR>(
    kind: 'inner' | 'left' | 'outer',
    other: { node: ProcessorNode; storeName: string },
    joiner: Joiner<unknown, unknown, unknown>,
    options: { materialized?: Materialized },
  ): KTable<K, VR> {
    const builder = this.builder
    const topology = builder.topology
    const name = options.materialized ?? builder.nextName('KTABLE-JOIN-STATE-STORE')
    const result = topology.store(name)
    const out = createNode(builder.nextName('KTABLE-MERGE'), (r, emit) => emit(r))
    const mine = tableTableJoin(
      builder.nextName('KTABLE-JOINTHIS'),
      'left',
      topology.store(other.storeName),
      joiner,
      kind,
      result,
    )
    const theirs = tableTableJoin(
      builder.nextName('KTABLE-JOINOTHER'),
      'right',
      topology.store(this.storeName),
      joiner,
      kind,
      result,
    )
    mine.children.push(out)
    theirs.children.push(out)
    this.node.children.push(mine)
    other.node.children.push(theirs)
    topology.copartition(this.node, other.node)
    return new KTable<K, VR>(builder, out, name)
  }

  /** The table's updates as a stream: a deletion becomes a record with a null value. */
  toStream(): KStream<K, V | null> {
    const node = createNode(this.builder.nextName('KTABLE-TOSTREAM'), (r, emit) =>
      emit({ ...r, value: (r.value as Change<V>).newValue } as StreamRecord),
    )
    this.node.children.push(node)
    return new KStream<K, V | null>(this.builder, node)
  }

  /** Re-groups the table by a new key, for aggregations with an adder and a subtractor. */
  groupBy<K2, V2>(selector: (key: K, value: V) => KeyValue<K2, V2>): KGroupedTable<K2, V2> {
    return new KGroupedTable<K2, V2>(
      this.builder,
      this.node,
      selector as (key: unknown, value: unknown) => KeyValue<K2, V2>,
    )
  }
}
