import { InvalidArgumentError } from '../log/errors.ts'
import { KeyValueStore } from './KeyValueStore.ts'
import { VersionedKeyValueStore } from './VersionedKeyValueStore.ts'
import type { ProcessorNode, StreamRecord } from './processor.ts'

/** Picks an output record's partition (Kafka's StreamPartitioner). */
export type StreamPartitioner<K = unknown, V = unknown> = (
  key: K,
  value: V,
  numPartitions: number,
) => number

/** A state store of a topology: a plain key-value store or a versioned one (KIP-889). */
export type StateStore = KeyValueStore | VersionedKeyValueStore

export type Sink = (topic: string, record: StreamRecord, partitioner?: StreamPartitioner) => void

/**
 * A built processor graph: source nodes per input topic, state stores by name, and the sinks'
 * output. `process` runs one input record through the graph, synchronously and depth-first.
 */
export class Topology {
  readonly sources = new Map<string, ProcessorNode[]>()
  readonly stores = new Map<string, StateStore>()
  private readonly restoreHooks: (() => void)[] = []

  /**
   * Processors that keep indexes or clocks derived from their stores register a hook here; a
   * runtime calls `restored()` after filling the stores from their changelogs.
   */
  onRestore(hook: () => void): void {
    this.restoreHooks.push(hook)
  }

  restored(): void {
    for (const hook of this.restoreHooks) hook()
  }

  /** Records dropped per processor (late for their window), as Kafka's dropped-records metric. */
  readonly droppedRecords = new Map<string, number>()
  private sink: Sink = () => undefined

  /** Where records sent `to()` a topic go (a test driver's output topics, a runtime's appends). */
  connectSink(sink: Sink): void {
    this.sink = sink
  }

  emit(topic: string, record: StreamRecord, partitioner?: StreamPartitioner): void {
    this.sink(topic, record, partitioner)
  }

  addSource(topic: string, node: ProcessorNode): void {
    const nodes = this.sources.get(topic) ?? []
    nodes.push(node)
    this.sources.set(topic, nodes)
  }

  store(name: string): KeyValueStore {
    let store = this.stores.get(name)
    if (store instanceof VersionedKeyValueStore)
      throw new InvalidArgumentError(
        `Store "${name}" is versioned: only a table source (builder.table, toTable) and ` +
          `stream-table joins read versioned stores so far`,
      )
    if (!store) this.stores.set(name, (store = new KeyValueStore(name)))
    return store
  }

  /** The versioned store `name` (Stores.persistentVersionedKeyValueStore), made on first use. */
  versionedStore(name: string, historyRetentionMs: number): VersionedKeyValueStore {
    const store = this.stores.get(name)
    if (store instanceof VersionedKeyValueStore) return store
    if (store) throw new InvalidArgumentError(`Store "${name}" exists and is not versioned`)
    const created = new VersionedKeyValueStore(name, historyRetentionMs)
    this.stores.set(name, created)
    return created
  }

  /**
   * Runs `body` (records through `process`) without changing anything: stores write to overlays,
   * outputs go nowhere, and afterwards the processors' own state (stream times, indexes) is
   * rebuilt from the unchanged stores. Returns what the stores would have become, by store: the
   * optimistic view of records not yet confirmed.
   */
  speculate(body: () => void): Map<string, { key: unknown; value: unknown }[]> {
    const sink = this.sink
    const dropped = new Map(this.droppedRecords)
    for (const store of this.stores.values()) store.beginOverlay()
    this.sink = () => undefined
    const out = new Map<string, { key: unknown; value: unknown }[]>()
    try {
      body()
    } finally {
      for (const [name, store] of this.stores) {
        const changes = store.endOverlay()
        if (changes.length > 0)
          out.set(
            name,
            changes.map(({ key, entry }) => ({ key, value: entry?.value ?? null })),
          )
      }
      this.sink = sink
      this.droppedRecords.clear()
      for (const [k, v] of dropped) this.droppedRecords.set(k, v)
      this.restored()
    }
    return out
  }

  /**
   * Runs `body` on empty scratch stores and returns what it read from them: the live stores, the
   * sink, the dropped counts and the processors' own state (rebuilt by the restore hooks) are as
   * they were afterwards. `body` must be synchronous, so that no live batch can run against the
   * scratch stores meanwhile. Views as of an offset (asOf.ts) replay the input log through it:
   * the one processing path, on other stores.
   */
  isolated<T>(body: () => T): T {
    const sink = this.sink
    const dropped = new Map(this.droppedRecords)
    // Swapping the stores' fields keeps every processor's reference to its store object valid.
    const saved = new Map<StateStore, Record<string, unknown>>()
    for (const store of this.stores.values()) {
      saved.set(store, { ...store })
      const fresh =
        store instanceof VersionedKeyValueStore
          ? new VersionedKeyValueStore(store.name, store.historyRetentionMs)
          : new KeyValueStore(store.name)
      Object.assign(store, { ...fresh })
    }
    this.sink = () => undefined
    try {
      this.restored()
      return body()
    } finally {
      for (const [store, fields] of saved) Object.assign(store, fields)
      this.sink = sink
      this.droppedRecords.clear()
      for (const [k, v] of dropped) this.droppedRecords.set(k, v)
      this.restored()
    }
  }

  dropped(processor: string): void {
    this.droppedRecords.set(processor, (this.droppedRecords.get(processor) ?? 0) + 1)
  }

  process(topic: string, record: StreamRecord): void {
    for (const node of this.sources.get(topic) ?? []) node.process(record)
  }

  /** Input topics, in the order they were first used (repartition topics by their own name). */
  inputTopics(): string[] {
    return [...this.sources.keys()]
  }

  /**
   * Repartition topics (Kafka's internal topics), by name: records sent `to` one come back through
   * its source, re-partitioned by their new key. A runtime prefixes the name with the application
   * id; `partitions` is the count the user asked for, if any.
   */
  readonly internalTopics = new Map<string, { partitions: number | undefined }>()

  addInternalTopic(name: string, partitions: number | undefined): void {
    this.internalTopics.set(name, { partitions })
  }

  /** Pairs of nodes a join reads together: their input topics must be co-partitioned. */
  private readonly joins: [ProcessorNode, ProcessorNode][] = []

  copartition(a: ProcessorNode, b: ProcessorNode): void {
    this.joins.push([a, b])
  }

  /** For each join, the input topics that reach either of its sides with their keys intact. */
  copartitionGroups(): string[][] {
    const reach = this.upstreamTopics(false)
    return this.joins.map(([a, b]) => [
      ...new Set([...(reach.get(a) ?? []), ...(reach.get(b) ?? [])]),
    ])
  }

  /**
   * The input topics that reach each node (a repartition source is a topic of its own); with
   * `throughKeyChanges` false, only those whose keys reach it unchanged.
   */
  upstreamTopics(throughKeyChanges = true): Map<ProcessorNode, Set<string>> {
    const reach = new Map<ProcessorNode, Set<string>>()
    for (const [topic, nodes] of this.sources) {
      const stack = [...nodes]
      while (stack.length > 0) {
        const node = stack.pop()!
        // What comes out of a re-keying node no longer carries its inputs' partitioning.
        if (node.keyChanging && !throughKeyChanges) continue
        const topics = reach.get(node) ?? new Set()
        if (topics.has(topic)) continue
        topics.add(topic)
        reach.set(node, topics)
        stack.push(...node.children)
      }
    }
    return reach
  }
}
