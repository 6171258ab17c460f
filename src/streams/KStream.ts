import { InvalidArgumentError } from '../log/errors.ts'
import { GlobalKTable } from './GlobalKTable.ts'
import { JoinWindows } from './JoinWindows.ts'
import { Joined } from './Joined.ts'
import { VersionedKeyValueStore } from './VersionedKeyValueStore.ts'
import type { StateStore } from './Topology.ts'
import { streamStreamJoin, streamTableJoin, type Joiner } from './joins.ts'
import { KGroupedStream } from './KGroupedStream.ts'
import { KTable, tableSource, type Materialized } from './KTable.ts'
import { createNode, type KeyValue, type ProcessorNode, type StreamRecord } from './processor.ts'
import type { StreamsBuilder } from './StreamsBuilder.ts'
import type { VersionedStoreSupplier } from './Stores.ts'
import type { StreamPartitioner } from './Topology.ts'

/**
 * A grace period needs a versioned table whose history reaches back as far (Kafka's checks in
 * KStreamImpl's stream-table join): a held record joins the table as of its own time.
 */
function checkGrace(store: StateStore, graceMs: number): void {
  if (!(store instanceof VersionedKeyValueStore))
    throw new InvalidArgumentError(
      `KTable must be versioned to use a grace period in a stream table join ("${store.name}" is not: ` +
        `materialize it with Stores.persistentVersionedKeyValueStore)`,
    )
  if (store.historyRetentionMs < graceMs)
    throw new InvalidArgumentError(
      `History retention must be at least grace period: "${store.name}" keeps ` +
        `${store.historyRetentionMs} ms, the join's grace period is ${graceMs} ms`,
    )
}

/** Kafka Streams' KStream: a record stream; every operator returns a new stream. */
export class KStream<K, V> {
  constructor(
    readonly builder: StreamsBuilder,
    readonly node: ProcessorNode,
  ) {}

  private then<K2, V2>(
    prefix: string,
    body: (record: StreamRecord<K, V>, emit: (record: StreamRecord<K2, V2>) => void) => void,
    keyChanging = false,
  ): KStream<K2, V2> {
    const node = createNode(this.builder.nextName(prefix), body as never)
    if (keyChanging) node.keyChanging = true
    this.node.children.push(node)
    return new KStream<K2, V2>(this.builder, node)
  }

  filter(predicate: (key: K, value: V) => boolean): KStream<K, V> {
    return this.then('KSTREAM-FILTER', (r, emit) => predicate(r.key, r.value) && emit(r))
  }

  filterNot(predicate: (key: K, value: V) => boolean): KStream<K, V> {
    return this.then('KSTREAM-FILTER', (r, emit) => !predicate(r.key, r.value) && emit(r))
  }

  map<K2, V2>(mapper: (key: K, value: V) => KeyValue<K2, V2>): KStream<K2, V2> {
    return this.then(
      'KSTREAM-MAP',
      (r, emit) => {
        const { key, value } = mapper(r.key, r.value)
        emit({ ...r, key, value })
      },
      true,
    )
  }

  mapValues<V2>(mapper: (value: V, key: K) => V2): KStream<K, V2> {
    return this.then('KSTREAM-MAPVALUES', (r, emit) =>
      emit({ ...r, value: mapper(r.value, r.key) }),
    )
  }

  flatMap<K2, V2>(mapper: (key: K, value: V) => Iterable<KeyValue<K2, V2>>): KStream<K2, V2> {
    return this.then(
      'KSTREAM-FLATMAP',
      (r, emit) => {
        for (const { key, value } of mapper(r.key, r.value)) emit({ ...r, key, value })
      },
      true,
    )
  }

  flatMapValues<V2>(mapper: (value: V, key: K) => Iterable<V2>): KStream<K, V2> {
    return this.then('KSTREAM-FLATMAPVALUES', (r, emit) => {
      for (const value of mapper(r.value, r.key)) emit({ ...r, value })
    })
  }

  selectKey<K2>(mapper: (key: K, value: V) => K2): KStream<K2, V> {
    return this.then(
      'KSTREAM-KEY-SELECT',
      (r, emit) => emit({ ...r, key: mapper(r.key, r.value) }),
      true,
    )
  }

  peek(action: (key: K, value: V) => void): KStream<K, V> {
    return this.then('KSTREAM-PEEK', (r, emit) => {
      action(r.key, r.value)
      emit(r)
    })
  }

  foreach(action: (key: K, value: V) => void): void {
    this.then('KSTREAM-FOREACH', (r) => action(r.key, r.value))
  }

  merge(other: KStream<K, V>): KStream<K, V> {
    const node = createNode(this.builder.nextName('KSTREAM-MERGE'), (r, emit) => emit(r))
    this.node.children.push(node)
    other.node.children.push(node)
    return new KStream<K, V>(this.builder, node)
  }

  /**
   * Routes each record to the first branch whose predicate holds (Kafka's split().branch()). The
   * branches come back in a map keyed by `named` + the branch's name, as in Kafka.
   */
  split(named = ''): BranchedKStream<K, V> {
    return new BranchedKStream(this, named || `${this.builder.nextName('KSTREAM-BRANCH')}-`)
  }

  /**
   * Sends the stream through a repartition topic (Kafka's repartition(Repartitioned)): records are
   * re-partitioned by their current key, and downstream processing reads them back from that
   * topic. The runtime names it `<applicationId>-<name>-repartition` and creates it with
   * `numberOfPartitions`, or else as many as the topics it is joined with (or its inputs) have.
   */
  repartition(options: { name?: string; numberOfPartitions?: number } = {}): KStream<K, V> {
    const { numberOfPartitions } = options
    if (
      numberOfPartitions !== undefined &&
      (!Number.isSafeInteger(numberOfPartitions) || numberOfPartitions < 1)
    ) {
      throw new InvalidArgumentError(
        `numberOfPartitions must be a positive integer, got ${numberOfPartitions}`,
      )
    }
    const topology = this.builder.topology
    const topic = `${options.name ?? this.builder.nextName('KSTREAM-REPARTITION')}-repartition`
    if (topology.internalTopics.has(topic) || topology.sources.has(topic))
      throw new InvalidArgumentError(`A repartition topic named ${topic} exists already`)
    topology.addInternalTopic(topic, numberOfPartitions)
    const sink = createNode(this.builder.nextName('KSTREAM-SINK'), (r) => topology.emit(topic, r))
    sink.sinkTopic = topic
    this.node.children.push(sink)
    const source = createNode(this.builder.nextName('KSTREAM-SOURCE'), (r, emit) => emit(r))
    topology.addSource(topic, source)
    return new KStream<K, V>(this.builder, source)
  }

  /**
   * Sends every record to a topic; the runtime appends them, a test driver collects them. The
   * partition is the key's (Kafka's default partitioner), or what `partitioner` picks (Kafka's
   * Produced.streamPartitioner).
   */
  to(topic: string, options: { partitioner?: StreamPartitioner<K, V> } = {}): void {
    const topology = this.builder.topology
    const partitioner = options.partitioner as StreamPartitioner | undefined
    this.then('KSTREAM-SINK', (r) => topology.emit(topic, r as StreamRecord, partitioner))
  }

  toTable(options: { materialized?: Materialized | VersionedStoreSupplier } = {}): KTable<K, V> {
    const store = this.builder.sourceStore(options.materialized, 'KSTREAM-TOTABLE-STATE-STORE')
    const node = tableSource(this.builder.nextName('KSTREAM-TOTABLE'), store, this.builder.topology)
    this.node.children.push(node)
    return new KTable<K, V>(this.builder, node, store.name)
  }

  /** Inner join with a table (by key), a global table (by `keySelector`) or a stream (windowed). */
  join<V2, VR>(
    table: KTable<K, V2>,
    joiner: (value: V, tableValue: V2) => VR,
    joined?: Joined,
  ): KStream<K, VR>
  join<K2, V2, VR>(
    table: GlobalKTable<K2, V2>,
    keySelector: (key: K, value: V) => K2,
    joiner: (value: V, tableValue: V2) => VR,
  ): KStream<K, VR>
  join<V2, VR>(
    other: KStream<K, V2>,
    joiner: (value: V, otherValue: V2) => VR,
    windows: JoinWindows,
  ): KStream<K, VR>
  join(other: unknown, a: unknown, b?: unknown): KStream<K, unknown> {
    return this.joinWith('inner', other, a, b)
  }

  /** Left join: every record of this stream comes out, with null where nothing matched. */
  leftJoin<V2, VR>(
    table: KTable<K, V2>,
    joiner: (value: V, tableValue: V2 | null) => VR,
    joined?: Joined,
  ): KStream<K, VR>
  leftJoin<K2, V2, VR>(
    table: GlobalKTable<K2, V2>,
    keySelector: (key: K, value: V) => K2,
    joiner: (value: V, tableValue: V2 | null) => VR,
  ): KStream<K, VR>
  leftJoin<V2, VR>(
    other: KStream<K, V2>,
    joiner: (value: V, otherValue: V2 | null) => VR,
    windows: JoinWindows,
  ): KStream<K, VR>
  leftJoin(other: unknown, a: unknown, b?: unknown): KStream<K, unknown> {
    return this.joinWith('left', other, a, b)
  }

  /** Outer join of two streams within a window: unmatched records of both sides come out. */
  outerJoin<V2, VR>(
    other: KStream<K, V2>,
    joiner: (value: V | null, otherValue: V2 | null) => VR,
    windows: JoinWindows,
  ): KStream<K, VR> {
    return this.joinWith('outer', other, joiner, windows) as KStream<K, VR>
  }

  private joinWith(
    kind: 'inner' | 'left' | 'outer',
    other: unknown,
    a: unknown,
    b: unknown,
  ): KStream<K, unknown> {
    const builder = this.builder
    const topology = builder.topology
    if (other instanceof KTable || other instanceof GlobalKTable) {
      const global = other instanceof GlobalKTable
      const store = global ? other.store : topology.stores.get(other.storeName)!
      const joiner = (global ? b : a) as Joiner<unknown, unknown, unknown>
      const keySelector = global ? (a as (key: unknown, value: unknown) => unknown) : undefined
      const prefix = global ? 'KSTREAM-JOIN-GLOBAL' : 'KSTREAM-JOIN'
      const graceMs = !global && b instanceof Joined ? b.gracePeriodMs : 0
      if (graceMs > 0) checkGrace(store, graceMs)
      const node = streamTableJoin(
        builder.nextName(prefix),
        store,
        joiner,
        kind === 'left',
        keySelector,
        { ms: graceMs, topology },
      )
      this.node.children.push(node)
      // Kafka requires a stream and a table joined by key to be co-partitioned (not a global one).
      if (!global) topology.copartition(this.node, other.node)
      return new KStream(builder, node)
    }
    if (!(other instanceof KStream) || !(b instanceof JoinWindows)) {
      throw new InvalidArgumentError(
        'join needs a KTable, a GlobalKTable with a key selector, or a KStream with JoinWindows',
      )
    }
    const names = {
      left: builder.nextName('KSTREAM-JOINTHIS'),
      right: builder.nextName('KSTREAM-JOINOTHER'),
    }
    const join = streamStreamJoin(names, b, a as Joiner<unknown, unknown, unknown>, kind, topology)
    this.node.children.push(join.left)
    other.node.children.push(join.right)
    topology.copartition(this.node, other.node)
    return new KStream(builder, join.out)
  }

  groupByKey(): KGroupedStream<K, V> {
    return new KGroupedStream<K, V>(this.builder, this.node)
  }

  /** Groups by a new key. (In one process no repartition topic is needed; see the docs.) */
  groupBy<K2>(selector: (key: K, value: V) => K2): KGroupedStream<K2, V> {
    return this.selectKey(selector).groupByKey()
  }
}

/** Kafka's BranchedKStream: branch(predicate, name), then defaultBranch() or noDefaultBranch(). */
export class BranchedKStream<K, V> {
  private readonly branches: {
    name: string
    predicate: (key: K, value: V) => boolean
    node: ProcessorNode
  }[] = []
  private defaultNode: ProcessorNode | undefined

  constructor(
    private readonly stream: KStream<K, V>,
    private readonly prefix: string,
  ) {
    const router = createNode(`${prefix}ROUTER`, (r) => {
      const hit = this.branches.find((b) => b.predicate(r.key as K, r.value as V))
      const target = hit?.node ?? this.defaultNode
      target?.process(r)
    })
    stream.node.children.push(router)
  }

  branch(predicate: (key: K, value: V) => boolean, name?: string): this {
    const branchName = `${this.prefix}${name ?? String(this.branches.length + 1)}`
    const node = createNode(branchName, (r, emit) => emit(r))
    this.branches.push({ name: branchName, predicate, node })
    return this
  }

  defaultBranch(name = '0'): Map<string, KStream<K, V>> {
    this.defaultNode = createNode(`${this.prefix}${name}`, (r, emit) => emit(r))
    const out = this.noDefaultBranch()
    out.set(this.defaultNode.name, new KStream<K, V>(this.stream.builder, this.defaultNode))
    return out
  }

  noDefaultBranch(): Map<string, KStream<K, V>> {
    return new Map(
      this.branches.map((b) => [b.name, new KStream<K, V>(this.stream.builder, b.node)]),
    )
  }
}
