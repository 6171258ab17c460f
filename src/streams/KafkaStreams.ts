import { InvalidArgumentError, OffsetOutOfRangeError } from '../log/errors.ts'
import type { Log, Message } from '../log/Log.ts'
import type { Producer, ProducerRecord } from '../log/Producer.ts'
import type { KeyValuePair, KeyValueStore } from './KeyValueStore.ts'
import type { StreamRecord } from './processor.ts'
import type { Topology } from './Topology.ts'

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
}

export type KafkaStreamsState = 'CREATED' | 'RUNNING' | 'ERROR' | 'NOT_RUNNING'

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

export interface StoreChange<K, V> {
  key: K
  value: V | null
}

/** Keys go to topics as strings: a string as itself, anything else as its JSON text. */
const keyText = (key: unknown): string | null =>
  key === null || key === undefined ? null : typeof key === 'string' ? key : JSON.stringify(key)

/**
 * Runs a topology over the log with exactly-once results (Kafka's KafkaStreams). For each batch of
 * input records it runs the topology, then commits in ONE storage transaction: the output
 * records, every store change (to the store's compacted changelog topic) and the input offsets.
 * An instance killed at any point restarts from its last commit: stores are rebuilt from their
 * changelogs and processing resumes after the committed offsets, so the outputs are those of a run
 * that was never killed. One instance owns every input partition (scaling out across tabs is the
 * worker runtime's job and comes later).
 */
export class KafkaStreams {
  private state: KafkaStreamsState = 'CREATED'
  private loop: Promise<void> | undefined
  private wake: (() => void) | undefined
  private error: unknown
  private readonly producer: Producer
  private readonly positions = new Map<string, number>()
  private readonly errorListeners = new Set<(error: unknown) => void>()
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
    this.producer = log.producer()
  }

  get currentState(): KafkaStreamsState {
    return this.state
  }

  changelogTopic(store: string): string {
    return `${this.config.applicationId}-${store}-changelog`
  }

  /** Restores the stores from their changelogs, then processes in the background. */
  async start(): Promise<void> {
    if (this.state !== 'CREATED')
      throw new InvalidArgumentError(`Cannot start a KafkaStreams in state ${this.state}`)
    const admin = this.log.admin()
    const stores = [...this.topology.stores.keys()]
    if (stores.length > 0) {
      await admin.createTopics({
        ifNotExists: true,
        topics: stores.map((s) => ({
          topic: this.changelogTopic(s),
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        })),
      })
    }
    for (const name of stores) await this.restore(name)
    this.topology.restored()
    const committed = await admin.fetchOffsets({
      groupId: this.config.applicationId,
      topics: this.topology.inputTopics(),
    })
    for (const { topic, partitions } of committed) {
      for (const { partition, offset } of partitions) {
        // Kafka Streams reads new input from the earliest offset.
        this.positions.set(`${topic}\u0000${partition}`, offset < 0 ? 0 : offset)
      }
    }
    this.state = 'RUNNING'
    const inputs = new Set(this.topology.inputTopics())
    const off = this.log.onAppend((events) => {
      if (events.some((e) => inputs.has(e.topic))) this.wake?.()
    })
    this.loop = this.run()
      .catch((error: unknown) => {
        this.state = 'ERROR'
        this.error = error
        for (const listener of this.errorListeners) listener(error)
      })
      .finally(off)
  }

  /** Called once if processing fails; the instance stops (start a new one to resume). */
  onError(listener: (error: unknown) => void): () => void {
    this.errorListeners.add(listener)
    return () => this.errorListeners.delete(listener)
  }

  /** Interactive queries on a materialized store. */
  store<K = unknown, V = unknown>(name: string): ReadOnlyKeyValueStore<K, V> {
    const store = this.topology.stores.get(name) as KeyValueStore<K, V> | undefined
    if (!store) throw new InvalidArgumentError(`No store "${name}" in this topology`)
    const listeners = this.listeners
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

  async close(): Promise<void> {
    if (this.state === 'RUNNING') this.state = 'NOT_RUNNING'
    this.wake?.()
    await this.loop
  }

  get lastError(): unknown {
    return this.error
  }

  private async restore(name: string): Promise<void> {
    const store = this.topology.stores.get(name)!
    store.clear()
    const topic = this.changelogTopic(name)
    for (let offset = (await this.log.offsets(topic))[0]!.low; ;) {
      const chunk = await this.log.fetch<{ value: unknown; timestamp: number }, string>({
        topic,
        partition: 0,
        offset,
      })
      for (const r of chunk.records) {
        store.put(
          JSON.parse(r.key!),
          r.value === null ? null : r.value.value,
          r.value?.timestamp ?? 0,
        )
      }
      if (chunk.nextOffset >= chunk.highWatermark) break
      offset = chunk.nextOffset
    }
    store.flushChanges()
  }

  /**
   * Picks records across the input partitions in timestamp order (ties: topic and partition
   * order), as Kafka Streams does within a task. The order then depends only on the data, so an
   * instance restarted from its last commit processes exactly what an uninterrupted one would.
   */
  private async run(): Promise<void> {
    const maxRecords = this.config.maxRecordsPerBatch ?? DEFAULT_MAX_RECORDS_PER_BATCH
    const order = [...this.positions.keys()]
    const buffers = new Map<string, { records: Message[]; nextOffset: number }>()
    while (this.state === 'RUNNING') {
      for (const id of order) {
        if (buffers.get(id)?.records.length) continue
        const [topic, p] = id.split('\u0000') as [string, string]
        const partition = Number(p)
        try {
          const chunk = await this.log.fetch({
            topic,
            partition,
            offset: this.positions.get(id)!,
            maxRecords,
          })
          buffers.set(id, { records: chunk.records, nextOffset: chunk.nextOffset })
          // Nothing but a gap (compaction): move past it.
          if (chunk.records.length === 0) this.positions.set(id, chunk.nextOffset)
        } catch (error) {
          if (!(error instanceof OffsetOutOfRangeError)) throw error
          const low = (await this.log.offsets(topic)).find((o) => o.partition === partition)!.low
          this.positions.set(id, low)
        }
      }
      const heads = order
        .map((id, rank) => ({ id, rank, buffer: buffers.get(id)! }))
        .filter((h) => h.buffer?.records.length)
      if (heads.length === 0) {
        if (this.state !== 'RUNNING') return
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, this.config.pollMs ?? 1000)
          function done() {
            clearTimeout(timer)
            resolve()
          }
          this.wake = done
        })
        this.wake = undefined
        continue
      }
      const first = (h: (typeof heads)[number]) => h.buffer.records[0]!.timestamp
      heads.sort((x, y) => first(x) - first(y) || x.rank - y.rank)
      const chosen = heads[0]!
      const others = heads.slice(1)
      // Take records while each still comes before every other partition's next record.
      const records = chosen.buffer.records
      let n = 1
      while (
        n < records.length &&
        others.every(
          (o) =>
            records[n]!.timestamp < first(o) ||
            (records[n]!.timestamp === first(o) && chosen.rank < o.rank),
        )
      ) {
        n++
      }
      const taken = records.splice(0, n)
      const [topic, p] = chosen.id.split('\u0000') as [string, string]
      const next = records.length > 0 ? records[0]!.offset : chosen.buffer.nextOffset
      await this.processBatch(topic, Number(p), taken, next)
    }
  }

  /** Runs one batch through the topology and commits everything it caused in one transaction. */
  private async processBatch(
    topic: string,
    partition: number,
    records: Message[],
    nextOffset: number,
  ): Promise<void> {
    const outputs = new Map<string, ProducerRecord['messages']>()
    this.topology.connectSink((to, record: StreamRecord) => {
      const list = outputs.get(to) ?? []
      const message: ProducerRecord['messages'][number] = {
        key: keyText(record.key),
        value: record.value,
        timestamp: record.timestamp,
      }
      if (record.headers) message.headers = record.headers
      list.push(message)
      outputs.set(to, list)
    })
    for (const r of records) {
      this.topology.process(topic, {
        key: r.key,
        value: r.value,
        timestamp: r.timestamp,
        headers: r.headers,
      })
    }
    const sends: ProducerRecord[] = [...outputs].map(([to, messages]) => ({ topic: to, messages }))
    const changed: [string, StoreChange<unknown, unknown>[]][] = []
    for (const [name, store] of this.topology.stores) {
      const changes = store.flushChanges()
      if (changes.length === 0) continue
      if (this.listeners.get(name)?.size) {
        changed.push([
          name,
          changes.map(({ key, entry }) => ({ key, value: entry?.value ?? null })),
        ])
      }
      sends.push({
        topic: this.changelogTopic(name),
        messages: changes.map(({ key, entry }) => ({
          key: JSON.stringify(key),
          value: entry === null ? null : { value: entry.value, timestamp: entry.timestamp },
        })),
      })
    }
    const request = await this.producer.prepareBatch(sends)
    // Outputs, store changes and the input position: all of it, or none of it.
    await this.log.transact(request, {
      groupId: this.config.applicationId,
      offsets: [{ topic, partition, offset: nextOffset }],
    })
    this.positions.set(`${topic}\u0000${partition}`, nextOffset)
    // Committed: now the views may see it.
    for (const [name, changes] of changed) {
      for (const listener of this.listeners.get(name) ?? []) listener(changes)
    }
  }
}
