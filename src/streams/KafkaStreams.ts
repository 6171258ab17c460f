import { storesAsOf, type AsOf, type StoresAsOf } from './asOf.ts'
import { InvalidArgumentError, ProcessingError } from '../log/errors.ts'
import { soloMembership, type GroupMembership } from '../log/GroupMembership.ts'
import type { Log } from '../log/Log.ts'
import type { Producer, ProducerConfig, ProducerRecord } from '../log/Producer.ts'
import type { ChangelogAppend, ChangelogPreview, ChangelogValue } from './ChangelogPreview.ts'
import { keyOfText } from './keyOfText.ts'
import type { KeyValueStore } from './KeyValueStore.ts'
import { VersionedKeyValueStore } from './VersionedKeyValueStore.ts'
import { PartitionGroup, type InputBatch } from './PartitionGroup.ts'
import { StoreSnapshots, type SnapshotConfig } from './StoreSnapshots.ts'
import { createInternalTopics } from './planInternalTopics.ts'
import type { StreamRecord } from './processor.ts'
import type { StateStore, StreamPartitioner, Topology } from './Topology.ts'
import type { Windowed } from './windows.ts'
import {
  queryableStore,
  windowView,
  versionedView,
  type ReadOnlyKeyValueStore,
  type ReadOnlyVersionedKeyValueStore,
  type ReadOnlyWindowStore,
  type StoreChange,
} from './queryableStore.ts'

/**
 * Records per transaction. Each commit also writes every changed key to its changelog, so bigger
 * batches amortise that: replaying 1M events into a count over 1,000 keys ran at ~165k events/s
 * with 1,000 and ~590k with 10,000 (docs/benchmarks.md). Live, a batch is whatever has arrived.
 */
export const DEFAULT_MAX_RECORDS_PER_BATCH = 10_000

export interface KafkaStreamsConfig {
  /** Names the consumer group, the changelog topics and the commits (Kafka's application.id). */
  applicationId: string
  /** Records processed per transaction (default 10,000; see DEFAULT_MAX_RECORDS_PER_BATCH). */
  maxRecordsPerBatch?: number
  /** How long an idle instance waits for an append before looking again (default 1,000 ms). */
  pollMs?: number
  /**
   * How instances of the application share the work (default: this one runs it). In the worker
   * runtime, `lockMembership` makes the application's instances in every tab one consumer group:
   * one of them processes, the others stand by and take over when it closes or dies.
   */
  membership?: GroupMembership
  /**
   * What to do when a user function throws (Kafka's processing.exception.handler): 'FAIL' (the
   * default) stops the instance with the ProcessingError; 'CONTINUE' skips the record, counts it
   * in `droppedRecords` and goes on. Effects of processors that ran before the throw stay, as in
   * Kafka.
   */
  processingExceptionHandler?: (error: ProcessingError, record: StreamRecord) => 'CONTINUE' | 'FAIL'
  /**
   * The config of the producer that writes `to()` outputs (Kafka's `producer.`-prefixed configs):
   * the worker runtime routes outputs to a synced topic into its outbox, as the page's sends.
   */
  producer?: ProducerConfig
  /**
   * How long a task with several input partitions waits for records on an empty one before
   * processing the others (Kafka's max.task.idle.ms, KIP-353 / KIP-695), so that records are taken
   * in timestamp order across inputs that fill at different times; measured by the log's clock.
   * 0 (the default, as in Kafka) waits for nothing beyond what is already in the log; -1 never
   * waits. A synced topic's records that the server holds but the device has not pulled yet do
   * not count as lag: only this wait covers them (docs/streams.md).
   */
  maxTaskIdleMs?: number
  /**
   * Stores restore from a snapshot of their state and the changelog records after it, instead of
   * the whole changelog (Kafka Streams' checkpointed state directory; see StoreSnapshots). On by
   * default; `false` folds the changelogs from their start at every restore.
   */
  snapshots?: SnapshotConfig | false
}

/**
 * Kafka's states: REBALANCING while this instance waits for the work (another instance has it),
 * RUNNING while it processes.
 */
export type KafkaStreamsState = 'CREATED' | 'REBALANCING' | 'RUNNING' | 'ERROR' | 'NOT_RUNNING'

/** Keys go to topics as strings: a string as itself, anything else as its JSON text. */
const keyText = (key: unknown): string | null =>
  key === null || key === undefined ? null : typeof key === 'string' ? key : JSON.stringify(key)

/**
 * Runs a topology over the log with exactly-once results (Kafka's KafkaStreams). For each batch of
 * input records it runs the topology, then commits in ONE storage transaction: the output
 * records, every store change (to the store's compacted changelog topic) and the input offsets.
 * An instance killed at any point restarts from its last commit: stores are rebuilt from their
 * changelogs and processing resumes after the committed offsets, so the outputs are those of a run
 * that was never killed.
 *
 * The application is one consumer group (`applicationId`) whose single unit of work is the whole
 * topology over all its input partitions: one instance processes, others stand by (see
 * `membership`). Kafka splits the work into one task per partition instead; docs/streams.md says
 * why duality does not (yet).
 */
export class KafkaStreams {
  private state: KafkaStreamsState = 'CREATED'
  private loop: Promise<void> | undefined
  private activation: Promise<void> | undefined
  private group: { leave(): Promise<void> } | undefined
  private owned = false
  private wake: (() => void) | undefined
  private error: unknown
  private readonly producer: Producer
  private readonly errorListeners = new Set<(error: unknown) => void>()
  private readonly stateListeners = new Set<(state: KafkaStreamsState) => void>()
  private readonly previewListeners = new Set<(preview: ChangelogPreview) => void>()
  /** Each changelog's end offset, as this instance (its only writer) has left it. */
  private readonly changelogEnds = new Map<string, number>()
  /** Tags this instance's batches (ChangelogPreview.tag): unique per instance, then a count. */
  private readonly instanceId = Math.random().toString(36).slice(2, 10)
  private batches = 0
  private readonly snapshots: StoreSnapshots | null
  private readonly listeners = new Map<
    string,
    Set<(changes: StoreChange<unknown, unknown>[]) => void>
  >()

  constructor(
    private readonly topology: Topology,
    private readonly log: Log,
    private readonly config: KafkaStreamsConfig,
  ) {
    if (!config?.applicationId)
      throw new InvalidArgumentError('KafkaStreams needs { applicationId }')
    const idle = config.maxTaskIdleMs ?? 0
    if (!Number.isSafeInteger(idle) || idle < -1)
      throw new InvalidArgumentError(
        `maxTaskIdleMs must be an integer of ms >= 0, or -1 to never wait; got ${idle}`,
      )
    this.producer = log.producer(config.producer)
    this.snapshots =
      config.snapshots === false
        ? null
        : new StoreSnapshots(log, topology, (store) => this.changelogTopic(store), config.snapshots)
  }

  get currentState(): KafkaStreamsState {
    return this.state
  }

  changelogTopic(store: string): string {
    return `${this.config.applicationId}-${store}-changelog`
  }

  /** The log topic behind a topology input: repartition topics are the application's own. */
  private logTopic(topic: string): string {
    return this.topology.internalTopics.has(topic) ? `${this.config.applicationId}-${topic}` : topic
  }

  /**
   * Creates the changelog topics and joins the application's group. With the work assigned at
   * once (one instance, the default), it resolves after the stores are restored; otherwise this
   * instance waits in REBALANCING until the group hands it the work.
   */
  async start(): Promise<void> {
    if (this.state !== 'CREATED')
      throw new InvalidArgumentError(`Cannot start a KafkaStreams in state ${this.state}`)
    this.setState('REBALANCING')
    await createInternalTopics(this.log, this.topology, {
      changelog: (store) => this.changelogTopic(store),
      internal: (topic) => this.logTopic(topic),
    })
    this.group = await (this.config.membership ?? soloMembership).join(
      {
        groupId: this.config.applicationId,
        subscriptions: [{ topic: 'topology', numPartitions: 1 }],
      },
      {
        assigned: (parts) => {
          if (parts.length > 0 && !this.owned) this.activation = this.activate()
        },
        revoked: () => this.deactivate(),
      },
    )
    await this.activation
  }

  /** Called once if processing fails; the instance stops (start a new one to resume). */
  onError(listener: (error: unknown) => void): () => void {
    this.errorListeners.add(listener)
    return () => this.errorListeners.delete(listener)
  }

  /** Called on every state change (Kafka's KafkaStreams.StateListener). */
  onStateChange(listener: (state: KafkaStreamsState) => void): () => void {
    this.stateListeners.add(listener)
    return () => this.stateListeners.delete(listener)
  }

  /**
   * Called for every batch with its store changes as they will reach the changelogs, as soon as its
   * input (durable in the log) has been processed and before its commit (see ChangelogPreview):
   * views move then instead of after the commit. The worker runtime gives them to this tab's views
   * and over BroadcastChannel to the other tabs'. Returns an unsubscribe.
   */
  onChangelogPreview(listener: (preview: ChangelogPreview) => void): () => void {
    this.previewListeners.add(listener)
    return () => this.previewListeners.delete(listener)
  }

  /** Interactive queries on a materialized store. */
  store<K = unknown, V = unknown>(name: string): ReadOnlyKeyValueStore<K, V> {
    const store = this.topology.stores.get(name)
    if (!store) throw new InvalidArgumentError(`No store "${name}" in this topology`)
    // As Kafka's IQ, which serves a versioned store only through its versioned queries.
    if (store instanceof VersionedKeyValueStore)
      throw new InvalidArgumentError(
        `Store "${name}" is versioned: query it with streams.versionedStore("${name}")`,
      )
    return queryableStore(store as KeyValueStore<K, V>, this.listeners)
  }

  /**
   * Interactive queries on a versioned store (Kafka's IQv2 VersionedKeyQuery, KIP-960):
   * `get(key)` is the latest version, `get(key, asOfTimestamp)` the one valid at that time.
   */
  versionedStore<K = unknown, V = unknown>(name: string): ReadOnlyVersionedKeyValueStore<K, V> {
    const store = this.topology.stores.get(name)
    if (!store) throw new InvalidArgumentError(`No store "${name}" in this topology`)
    if (!(store instanceof VersionedKeyValueStore))
      throw new InvalidArgumentError(
        `Store "${name}" is not versioned (materialize it with Stores.persistentVersionedKeyValueStore)`,
      )
    return versionedView(store as VersionedKeyValueStore<K, V>)
  }

  /**
   * What the stores would become if `records` were processed next, without processing them: the
   * optimistic state of a view while local sends wait for the server (sync's rebase: views show
   * confirmed state plus these). Nothing changes: no store, no output, no offset. A record whose
   * processing throws is left out. Only the instance that runs the topology can speculate.
   * Null while a batch is between processing and its commit: the stores hold state that is not
   * committed yet, which would count its records twice; ask again after the commit.
   */
  speculate(
    records: { topic: string; key: unknown; value: unknown; timestamp: number }[],
  ): Map<string, StoreChange<unknown, unknown>[]> | null {
    if (this.state !== 'RUNNING')
      throw new InvalidArgumentError(
        `Only a running instance can speculate (this one is ${this.state})`,
      )
    if (this.batchInFlight) return null
    return this.topology.speculate(() => {
      for (const r of records) {
        try {
          this.topology.process(r.topic, { ...r, headers: null })
        } catch (error) {
          if (!(error instanceof ProcessingError)) throw error
        }
      }
    })
  }

  /**
   * The stores as they were after the input up to `at` (offsets per input partition, or a
   * timestamp), replayed from the input log on scratch stores (storesAsOf): read-only, this
   * instance's stores, offsets and changelogs are untouched. Works in a standby instance too.
   */
  asOf(at: AsOf): Promise<StoresAsOf> {
    return storesAsOf(this.log, this.topology, at, (topic) => this.logTopic(topic))
  }

  /** Interactive queries on a windowed store (Kafka's ReadOnlyWindowStore). */
  windowStore<K = unknown, V = unknown>(name: string): ReadOnlyWindowStore<K, V> {
    return windowView(this.store<Windowed<K>, V>(name))
  }

  /** Stops processing after the batch in flight commits, and leaves the group. */
  async close(): Promise<void> {
    if (this.state === 'NOT_RUNNING') return
    if (this.state !== 'ERROR') this.setState('NOT_RUNNING')
    this.wake?.()
    await this.activation?.catch(() => undefined)
    await this.loop
    const group = this.group
    this.group = undefined
    await group?.leave().catch(() => undefined)
    await this.snapshots?.settled()
  }

  get lastError(): unknown {
    return this.error
  }

  private setState(state: KafkaStreamsState): void {
    if (this.state === state) return
    this.state = state
    for (const listener of this.stateListeners) listener(state)
  }

  /** The group gave this instance the work: restore the stores, then process. */
  private async activate(): Promise<void> {
    this.owned = true
    try {
      for (const name of this.topology.stores.keys()) await this.restore(name)
      this.topology.restored()
      const group = new PartitionGroup(this.log, this.config.maxTaskIdleMs ?? 0)
      const committed = await this.log.admin().fetchOffsets({
        groupId: this.config.applicationId,
        topics: this.topology.inputTopics().map((t) => this.logTopic(t)),
      })
      for (const { topic, partitions } of committed) {
        // Kafka Streams reads new input from the earliest offset.
        for (const { partition, offset } of partitions)
          group.add(topic, partition, Math.max(0, offset))
      }
      if (this.state !== 'REBALANCING') return
      this.setState('RUNNING')
      const inputs = new Set(this.topology.inputTopics().map((t) => this.logTopic(t)))
      const off = this.log.onAppend((events) => {
        let input = false
        for (const e of events) {
          if (!inputs.has(e.topic)) continue
          group.hint(e.topic, e.partition, e.highWatermark)
          input = true
        }
        if (input) this.wake?.()
      })
      this.loop = this.run(group).finally(off)
    } catch (error) {
      this.fail(error)
    }
  }

  /** The group takes the work away: finish the batch in flight (it commits), then stop. */
  private async deactivate(): Promise<void> {
    this.owned = false
    if (this.state === 'RUNNING') this.setState('REBALANCING')
    this.wake?.()
    await this.activation?.catch(() => undefined)
    await this.loop
    this.loop = undefined
  }

  private fail(error: unknown): void {
    this.error = error
    this.setState('ERROR')
    for (const listener of this.errorListeners) listener(error)
    // Let another instance take over (it restarts from the last commit).
    const group = this.group
    this.group = undefined
    void group?.leave().catch(() => undefined)
  }

  private async restore(name: string): Promise<void> {
    const store = this.topology.stores.get(name)!
    store.clear()
    const topic = this.changelogTopic(name)
    const partitions = await this.log.offsets(topic)
    let offset = partitions[0]!.low
    if (this.snapshots && partitions.length === 1)
      offset = (await this.snapshots.restore(name, store)) ?? offset
    let read = 0
    for (;;) {
      const chunk = await this.log.fetch<ChangelogValue, string>({
        topic,
        partition: 0,
        offset,
      })
      for (const r of chunk.records) {
        // A versioned store's delete is a tombstone whose record timestamp is the version's.
        store.restore(
          keyOfText(r.key!),
          r.value === null ? null : r.value.value,
          r.value?.timestamp ?? r.timestamp,
        )
      }
      read += chunk.records.length
      offset = chunk.nextOffset
      if (offset >= chunk.highWatermark) break
    }
    this.snapshots?.restored(name, read)
    // Where this instance's first batch appends (its previews' `from`). A changelog of several
    // partitions (made by hand) gets no previews: where each record goes is the producer's choice.
    if (partitions.length === 1) this.changelogEnds.set(topic, offset)
    store.discardChanges()
  }

  private async run(group: PartitionGroup): Promise<void> {
    const maxRecords = this.config.maxRecordsPerBatch ?? DEFAULT_MAX_RECORDS_PER_BATCH
    try {
      while (this.state === 'RUNNING' && this.owned) {
        const batch = await group.next(maxRecords)
        if (batch) {
          await this.processBatch(batch)
          group.committed(batch)
          continue
        }
        if (this.state !== 'RUNNING' || !this.owned) return
        const pollMs = this.config.pollMs ?? 1000
        // Waiting for an empty input partition (max.task.idle.ms): look again when it ends.
        const waitMs =
          group.waitingUntil === undefined
            ? pollMs
            : Math.min(pollMs, Math.max(0, group.waitingUntil - this.log.clock()))
        if (waitMs === 0) continue
        // Nothing to do: a good moment to snapshot what has grown.
        this.snapshots?.idle(this.changelogEnds)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            // A poll, not an append event: read every partition (appends may go unheard).
            group.refresh()
            done()
          }, waitMs)
          function done() {
            clearTimeout(timer)
            resolve()
          }
          this.wake = done
        })
        this.wake = undefined
      }
    } catch (error) {
      this.fail(error)
    }
  }

  private batchInFlight = false

  /** Runs one batch through the topology and commits everything it caused in one transaction. */
  private async processBatch(batch: InputBatch): Promise<void> {
    this.batchInFlight = true
    try {
      await this.processAndCommit(batch)
    } finally {
      this.batchInFlight = false
    }
  }

  private async processAndCommit({
    topic,
    partition,
    records,
    nextOffset,
  }: InputBatch): Promise<void> {
    const outputs = new Map<string, ProducerRecord['messages']>()
    const partitioned: [
      ProducerRecord['messages'][number],
      StreamPartitioner,
      string,
      StreamRecord,
    ][] = []
    const internal = this.topology.internalTopics
    this.topology.connectSink((to, record: StreamRecord, partitioner) => {
      const topic = this.logTopic(to)
      const list = outputs.get(topic) ?? []
      const message: ProducerRecord['messages'][number] = {
        // Partitioned by the key's text like any record; the typed key rides in the value.
        key: keyText(record.key),
        value: internal.has(to) ? { key: record.key, value: record.value } : record.value,
        timestamp: record.timestamp,
      }
      if (record.headers) message.headers = record.headers
      list.push(message)
      outputs.set(topic, list)
      if (partitioner) partitioned.push([message, partitioner, topic, record])
    })
    const source = this.topology.inputTopics().find((t) => this.logTopic(t) === topic)!
    const repartitioned = internal.has(source)
    const handler = this.config.processingExceptionHandler
    for (const r of records) {
      const { key, value } = repartitioned
        ? (r.value as { key: unknown; value: unknown })
        : { key: r.key, value: r.value }
      const record = { key, value, timestamp: r.timestamp, headers: r.headers }
      try {
        this.topology.process(source, record)
      } catch (error) {
        if (!(error instanceof ProcessingError)) throw error
        error.at({ topic, partition, offset: r.offset })
        if (handler?.(error, record) !== 'CONTINUE') throw error
        this.topology.dropped(error.processor)
      }
    }
    for (const [message, partitioner, topic, record] of partitioned) {
      const { numPartitions } = await this.log.topic(topic)
      message.partition = partitioner(record.key, record.value, numPartitions)
    }
    const sends: ProducerRecord[] = [...outputs].map(([to, messages]) => ({ topic: to, messages }))
    const changed: [string, StoreChange<unknown, unknown>[]][] = []
    const previews: ChangelogAppend[] = []
    const wrote: [string, StateStore, number][] = []
    for (const [name, store] of this.topology.stores) {
      const changes = store.flushChanges()
      if (changes.length === 0) continue
      if (this.listeners.get(name)?.size) {
        changed.push([
          name,
          changes.map(({ key, entry }) => ({ key, value: entry?.value ?? null })),
        ])
      }
      const changelog = this.changelogTopic(name)
      const messages = changes.map((change) => ({
        key: JSON.stringify(change.key),
        value:
          change.entry === null
            ? null
            : { value: change.entry.value, timestamp: change.entry.timestamp },
        // A versioned store's records carry their version's time, which min.compaction.lag.ms
        // measures and a delete needs; a plain store's are stamped by the log's clock.
        ...(change.timestamp === undefined ? {} : { timestamp: change.timestamp }),
      }))
      sends.push({ topic: changelog, messages })
      wrote.push([name, store, messages.length])
      const from = this.changelogEnds.get(changelog)
      if (from !== undefined) {
        previews.push({ topic: changelog, partition: 0, from, records: messages })
        this.changelogEnds.set(changelog, from + messages.length)
      }
    }
    const tag = `${this.instanceId}:${++this.batches}`
    // The input is durable and processed: views may show the result now (ChangelogPreview).
    if (previews.length > 0) this.announce({ type: 'processed', tag, changelogs: previews })
    try {
      const request = await this.producer.prepareBatch(sends)
      // Outputs, store changes and the input position: all of it, or none of it.
      await this.log.transact(
        request,
        { groupId: this.config.applicationId, offsets: [{ topic, partition, offset: nextOffset }] },
        { tag },
      )
    } catch (error) {
      // Nothing was written: whoever showed the preview takes it back. The ends are unknown now
      // (the instance stops; a new one restores them).
      for (const p of previews) this.changelogEnds.delete(p.topic)
      if (previews.length > 0) this.announce({ type: 'aborted', tag })
      throw error
    }
    for (const [name, store, records] of wrote) {
      const end = this.changelogEnds.get(this.changelogTopic(name))
      if (end !== undefined) this.snapshots?.committed(name, store, records, end)
    }
    // Committed: interactive-query listeners see it (views saw the preview already).
    for (const [name, changes] of changed) {
      for (const listener of this.listeners.get(name) ?? []) listener(changes)
    }
  }

  private announce(preview: ChangelogPreview): void {
    for (const listener of this.previewListeners) {
      try {
        listener(preview)
      } catch (error) {
        // A listener's bug must not fail the batch (its input is processed, its commit is next).
        queueMicrotask(() => {
          throw error
        })
      }
    }
  }
}
