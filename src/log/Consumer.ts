import { commitGroupOffsets, fetchGroupOffset, type OffsetCommit } from './Admin.ts'
import { InvalidArgumentError, NotAssignedError, OffsetOutOfRangeError } from './errors.ts'
import type { Log, Message } from './Log.ts'
import { soloMembership, type GroupMembership, type TopicPartition } from './GroupMembership.ts'
import { checkOffset } from './validate.ts'

export type { TopicPartition }

export interface ConsumerConfig {
  groupId: string
  /** Bytes fetched per partition per round (default 1 MiB). */
  maxBytesPerPartition?: number
  /** How long an idle consumer waits for an append before looking again (default 5,000 ms). */
  maxWaitTimeInMs?: number
  /** Retries of a failing handler before the consumer crashes (default 5). */
  retries?: number
  /** Who owns which partition when several members share the group (default: this one, all). */
  membership?: GroupMembership
}

export interface EachMessagePayload<V = unknown, K = unknown> {
  topic: string
  partition: number
  message: Message<V, K>
  heartbeat(): Promise<void>
  pause(): () => void
}

export interface Batch<V = unknown, K = unknown> {
  topic: string
  partition: number
  highWatermark: number
  messages: Message<V, K>[]
  firstOffset(): number | null
  lastOffset(): number
}

export interface EachBatchPayload<V = unknown, K = unknown> {
  batch: Batch<V, K>
  /** Marks everything up to and including `offset` as processed. */
  resolveOffset(offset: number): void
  heartbeat(): Promise<void>
  commitOffsetsIfNecessary(): Promise<void>
  isRunning(): boolean
  isStale(): boolean
  pause(): () => void
}

export interface ConsumerRunConfig {
  eachMessage?: (payload: EachMessagePayload) => Promise<void> | void
  eachBatch?: (payload: EachBatchPayload) => Promise<void> | void
  /** Commit processed offsets after each batch (default true). */
  autoCommit?: boolean
  /** With eachBatch: resolve the whole batch when the handler returns (default true). */
  eachBatchAutoResolve?: boolean
}

type Crash = { error: unknown; groupId: string }

const id = (topic: string, partition: number) => `${topic}\u0000${partition}`

/**
 * KafkaJS's consumer over the local log. Which partitions it consumes is its GroupMembership's call
 * (by default all it subscribes to); it starts each from the group's committed offset, commits
 * after every batch, and gives a partition up only between batches, after committing.
 */
export class Consumer {
  readonly groupId: string
  private readonly subscriptions = new Map<string, { fromBeginning: boolean }>()
  private readonly positions = new Map<string, number>()
  /** Seeks not yet applied by an assignment. */
  private readonly seeks = new Map<string, number>()
  /** Bumped by seek, so a fetch that was in flight when the seek came is thrown away. */
  private readonly generations = new Map<string, number>()
  private readonly paused = new Set<string>()
  private readonly crashListeners = new Set<(crash: Crash) => void>()
  /** The partitions this member owns now, in a stable order. */
  private readonly owned = new Map<string, TopicPartition>()
  /** The partition being delivered right now, and its delivery: revoking waits for it. */
  private current: { key: string; done: Promise<void> } | undefined
  private membership: { leave(): Promise<void> } | undefined
  private running = false
  private loop: Promise<void> | undefined
  private wake: (() => void) | undefined
  private poked = false

  constructor(
    private readonly log: Log,
    private readonly config: ConsumerConfig,
  ) {
    if (typeof config?.groupId !== 'string' || config.groupId === '') {
      throw new InvalidArgumentError('consumer() needs { groupId: "a non-empty string" }')
    }
    this.groupId = config.groupId
  }

  async connect(): Promise<void> {}

  async subscribe(options: {
    topics?: string[]
    topic?: string
    fromBeginning?: boolean
  }): Promise<void> {
    const topics = options.topics ?? (options.topic === undefined ? [] : [options.topic])
    if (topics.length === 0) throw new InvalidArgumentError('subscribe needs { topics: [names] }')
    for (const topic of topics) await this.log.topic(topic)
    for (const topic of topics)
      this.subscriptions.set(topic, { fromBeginning: options.fromBeginning ?? false })
  }

  /** Starts consuming in the background; resolves once the loop is running. */
  async run(config: ConsumerRunConfig): Promise<void> {
    if (!config?.eachMessage && !config?.eachBatch) {
      throw new InvalidArgumentError('run needs an eachMessage or eachBatch handler')
    }
    if (this.running) throw new InvalidArgumentError('This consumer is already running')
    if (this.subscriptions.size === 0) throw new InvalidArgumentError('subscribe before run')
    this.running = true
    try {
      const subscriptions = await Promise.all(
        [...this.subscriptions.keys()].map(async (topic) => ({
          topic,
          numPartitions: (await this.log.topic(topic)).numPartitions,
        })),
      )
      this.membership = await (this.config.membership ?? soloMembership).join(
        { groupId: this.groupId, subscriptions },
        { assigned: (tps) => this.assign(tps), revoked: (tps) => this.revoke(tps) },
      )
    } catch (error) {
      this.running = false
      throw error
    }
    const unsubscribe = this.log.onAppend((events) => {
      if (events.some((e) => this.subscriptions.has(e.topic))) this.poke()
    })
    this.loop = this.consume(config)
      .catch(async (error: unknown) => {
        this.running = false
        // A crashed member leaves its group, so the others take its partitions over.
        const membership = this.membership
        this.membership = undefined
        await membership?.leave().catch(() => undefined)
        for (const listener of this.crashListeners) listener({ error, groupId: this.groupId })
      })
      .finally(unsubscribe)
  }

  /** KafkaJS-style instrumentation; only 'consumer.crash' is emitted. */
  on(event: 'consumer.crash', listener: (event: { payload: Crash }) => void): () => void {
    if (event !== 'consumer.crash')
      throw new InvalidArgumentError(`Unknown consumer event "${String(event)}"`)
    const wrapped = (crash: Crash) => listener({ payload: crash })
    this.crashListeners.add(wrapped)
    return () => this.crashListeners.delete(wrapped)
  }

  /** Moves the position of a partition; the next batch starts there (rewind and replay). */
  seek({
    topic,
    partition,
    offset,
  }: {
    topic: string
    partition: number
    offset: number | string
  }): void {
    const o = checkOffset(offset)
    const key = id(topic, partition)
    this.positions.set(key, o)
    // Remembered until the partition is (re)assigned, so a seek before run() is not lost.
    if (!this.owned.has(key)) this.seeks.set(key, o)
    this.generations.set(key, (this.generations.get(key) ?? 0) + 1)
    this.poke()
  }

  /** Rewinds partitions (default: all assigned) to their log start offset. */
  async seekToBeginning(partitions?: TopicPartition[]): Promise<void> {
    await this.seekEach(partitions, async ({ topic, partition }) => {
      return (await this.log.offsets(topic)).find((o) => o.partition === partition)!.low
    })
  }

  /** Skips partitions (default: all assigned) to their end: only new records are delivered. */
  async seekToEnd(partitions?: TopicPartition[]): Promise<void> {
    await this.seekEach(partitions, async ({ topic, partition }) => {
      return (await this.log.offsets(topic)).find((o) => o.partition === partition)!.high
    })
  }

  /** Moves partitions to the first record at or after `timestamp` (Kafka's offsetsForTimes). */
  async seekToTimestamp(timestamp: number, partitions?: TopicPartition[]): Promise<void> {
    await this.seekEach(partitions, ({ topic, partition }) =>
      this.log.offsetForTimestamp(topic, partition, timestamp),
    )
  }

  private async seekEach(
    partitions: TopicPartition[] | undefined,
    offsetOf: (tp: TopicPartition) => Promise<number>,
  ): Promise<void> {
    // Before run() nothing is assigned yet: a seek then applies to every subscribed partition.
    const targets = partitions ?? (this.running ? this.assignment() : await this.subscribed())
    for (const tp of targets) this.seek({ ...tp, offset: await offsetOf(tp) })
  }

  /**
   * Commits offsets for the group. While running, only for partitions this member owns (or is
   * finishing a batch of): a member that lost a partition must not rewind its new owner.
   */
  async commitOffsets(offsets: OffsetCommit[]): Promise<void> {
    if (this.membership) {
      for (const { topic, partition } of offsets) {
        const key = id(topic, partition)
        if (!this.owned.has(key) && this.current?.key !== key) {
          throw new NotAssignedError(
            `${topic}/${partition} is not assigned to this consumer (the group moved it); its owner commits it`,
          )
        }
      }
    }
    await commitGroupOffsets(this.log, this.groupId, offsets)
  }

  pause(topics: { topic: string; partitions?: number[] }[]): void {
    for (const t of topics) for (const p of this.partitionsOf(t)) this.paused.add(id(t.topic, p))
  }

  resume(topics: { topic: string; partitions?: number[] }[]): void {
    for (const t of topics) for (const p of this.partitionsOf(t)) this.paused.delete(id(t.topic, p))
    this.poke()
  }

  assignment(): TopicPartition[] {
    return [...this.owned.values()]
  }

  async stop(): Promise<void> {
    this.running = false
    this.poke()
    await this.loop
    const membership = this.membership
    this.membership = undefined
    await membership?.leave()
  }

  private assign(partitions: TopicPartition[]): void {
    for (const tp of partitions) {
      const key = id(tp.topic, tp.partition)
      if (this.owned.has(key)) continue
      this.owned.set(key, tp)
      // Another member may have moved on since we last owned it: start from the group's commit,
      // unless the user seeked.
      const seek = this.seeks.get(key)
      if (seek === undefined) this.positions.delete(key)
      else this.positions.set(key, seek)
      this.seeks.delete(key)
      this.generations.set(key, (this.generations.get(key) ?? 0) + 1)
    }
    this.poke()
  }

  private async revoke(partitions: TopicPartition[]): Promise<void> {
    const keys = new Set(partitions.map((tp) => id(tp.topic, tp.partition)))
    for (const key of keys) this.owned.delete(key)
    for (const key of keys) this.seeks.delete(key)
    // A batch being delivered finishes and commits before the partition is given up.
    const current = this.current
    if (current && keys.has(current.key)) await current.done
  }

  async disconnect(): Promise<void> {
    await this.stop()
  }

  private async subscribed(): Promise<TopicPartition[]> {
    const out: TopicPartition[] = []
    for (const topic of this.subscriptions.keys()) {
      const { numPartitions } = await this.log.topic(topic)
      for (let partition = 0; partition < numPartitions; partition++) out.push({ topic, partition })
    }
    return out
  }

  private partitionsOf({ topic, partitions }: { topic: string; partitions?: number[] }): number[] {
    const all = this.assignment()
      .filter((a) => a.topic === topic)
      .map((a) => a.partition)
    return partitions ?? all
  }

  /** Where a partition starts: its committed offset, else the reset policy (earliest/latest). */
  private async position(topic: string, partition: number): Promise<number> {
    const key = id(topic, partition)
    const known = this.positions.get(key)
    if (known !== undefined) return known
    const committed = await fetchGroupOffset(this.log, this.groupId, topic, partition)
    const start = committed ?? (await this.reset(topic, partition))
    if (!this.positions.has(key)) this.positions.set(key, start)
    return this.positions.get(key)!
  }

  private async reset(topic: string, partition: number): Promise<number> {
    const offsets = await this.log.offsets(topic)
    const o = offsets.find((x) => x.partition === partition)!
    return this.subscriptions.get(topic)?.fromBeginning ? o.low : o.high
  }

  private async consume(config: ConsumerRunConfig): Promise<void> {
    while (this.running) {
      this.poked = false
      let delivered = false
      for (const [key, { topic, partition }] of [...this.owned]) {
        if (!this.running) break
        if (this.paused.has(key) || !this.owned.has(key)) continue
        const done = this.consumePartition(config, key, topic, partition)
        this.current = {
          key,
          done: done.then(
            () => undefined,
            () => undefined,
          ),
        }
        try {
          delivered = (await done) || delivered
        } finally {
          this.current = undefined
        }
      }
      if (!delivered && this.running) await this.idle(this.config.maxWaitTimeInMs ?? 5000)
    }
  }

  /** One fetch and delivery for a partition; true when records were delivered. */
  private async consumePartition(
    config: ConsumerRunConfig,
    key: string,
    topic: string,
    partition: number,
  ): Promise<boolean> {
    const generation = this.generations.get(key) ?? 0
    const offset = await this.position(topic, partition)
    let result
    try {
      const maxBytes = this.config.maxBytesPerPartition ?? 1024 * 1024
      result = await this.log.fetch({ topic, partition, offset, maxBytes })
    } catch (error) {
      if (!(error instanceof OffsetOutOfRangeError)) throw error
      // Retention removed our position: Kafka's auto.offset.reset.
      this.positions.set(key, await this.reset(topic, partition))
      return false
    }
    // A seek, or losing the partition, while fetching: this batch is not ours to deliver.
    if ((this.generations.get(key) ?? 0) !== generation || !this.owned.has(key)) return false
    if (result.records.length === 0) {
      if (result.nextOffset !== offset) this.positions.set(key, result.nextOffset)
      return false
    }
    const { records, highWatermark } = result
    await this.deliver(config, topic, partition, records, highWatermark, generation)
    return true
  }

  /** Something changed (an append, a seek, an assignment): look again before idling. */
  private poke(): void {
    this.poked = true
    this.wake?.()
  }

  private idle(ms: number): Promise<void> {
    // A notice that came while we were fetching must not be lost to a full maxWait sleep.
    if (this.poked) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.wake = () => {
        this.wake = undefined
        done()
      }
    })
  }

  private async deliver(
    config: ConsumerRunConfig,
    topic: string,
    partition: number,
    messages: Message[],
    highWatermark: number,
    generation: number,
  ): Promise<void> {
    const key = id(topic, partition)
    const stale = () => (this.generations.get(key) ?? 0) !== generation
    let resolved = -1
    const resolveOffset = (offset: number) => {
      if (!stale()) resolved = Math.max(resolved, offset)
    }
    const pause = () => {
      this.paused.add(key)
      return () => this.resume([{ topic, partitions: [partition] }])
    }
    const heartbeat = async () => {}
    const commit = async () => {
      if (resolved >= 0 && !stale()) {
        this.positions.set(key, resolved + 1)
        if (config.autoCommit !== false)
          await this.commitOffsets([{ topic, partition, offset: resolved + 1 }])
      }
    }
    await this.withRetries(async () => {
      // A retry starts after what the failed attempt resolved.
      const rest = resolved < 0 ? messages : messages.filter((m) => m.offset > resolved)
      if (rest.length === 0) return
      if (config.eachBatch) {
        await config.eachBatch({
          batch: {
            topic,
            partition,
            highWatermark,
            messages: rest,
            firstOffset: () => rest[0]?.offset ?? null,
            lastOffset: () => rest.at(-1)?.offset ?? highWatermark - 1,
          },
          resolveOffset,
          heartbeat,
          commitOffsetsIfNecessary: commit,
          isRunning: () => this.running,
          isStale: stale,
          pause,
        })
        if (config.eachBatchAutoResolve !== false) resolveOffset(rest.at(-1)!.offset)
      } else {
        for (const message of rest) {
          if (!this.running || stale() || this.paused.has(key)) break
          await config.eachMessage!({ topic, partition, message, heartbeat, pause })
          resolveOffset(message.offset)
        }
      }
    }, commit)
    await commit()
  }

  /** Retries a failing handler with backoff from the first unprocessed message, as KafkaJS does. */
  private async withRetries(body: () => Promise<void>, commit: () => Promise<void>): Promise<void> {
    const retries = this.config.retries ?? 5
    for (let attempt = 0; ; attempt++) {
      try {
        return await body()
      } catch (error) {
        await commit()
        if (attempt >= retries || !this.running) throw error
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 5000)))
      }
    }
  }
}
