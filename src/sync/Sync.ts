import type { TopicSpec } from '../log/Admin.ts'
import {
  DualityError,
  errorFromJSON,
  InvalidArgumentError,
  InvalidConfigError,
  NetworkError,
  UnknownError,
  UnknownTopicError,
} from '../log/errors.ts'
import type { Log, PartitionOffsets } from '../log/Log.ts'
import type { Producer, ProducerConfig } from '../log/Producer.ts'
import { backoffDelay, sleep } from './backoff.ts'
import { Puller } from './Puller.ts'
import { Pusher } from './Pusher.ts'
import { outboxTopic, PUSHED, readSyncState, REMOTE } from './syncState.ts'
import {
  dismissRejections,
  readRejections,
  rejectionsTopic,
  rejectionsTopicSpec,
  type Rejection,
} from './rejections.ts'
import type { SyncRelay } from './syncRelay.ts'
import type { SyncTransport } from './SyncTransport.ts'

export interface SyncOptions {
  transport: SyncTransport
  /** The synced topics, as the app declares them (the server's must have as many partitions). */
  topics: TopicSpec[]
  /** Records per push request (default 500). */
  maxBatch?: number
  /**
   * Producer ids start with this and a `/` (e.g. the signed-in user's id): a server with
   * authentication binds producer ids to principals, so no client can fence another's producer.
   */
  producerIdPrefix?: string
}

export type Connection = 'online' | 'offline' | 'syncing'

export interface TopicStatus {
  /** Local sends not yet back from the server. */
  pending: number
  /** Records the replica is behind the server, when known (null while catching up). */
  lag: number | null
  upToDate: boolean
  /** The last error that stopped this topic (a partition count mismatch...), if any. */
  error: DualityError | null
  /**
   * Local sends the server refused for good (403, 400, 409, 413), oldest first, until the app
   * dismisses them (`dismissRejections`): they are neither pending nor shown in views.
   */
  rejections: Rejection[]
}

export interface SyncStatus {
  connection: Connection
  topics: Record<string, TopicStatus>
}

export type SyncEvent =
  | { type: 'status'; status: SyncStatus }
  /**
   * The server refused local sends for good: they left the outbox (`offset`: the first of them;
   * `rejections`: each with its record and reason, as `rejections()` lists them until dismissed).
   */
  | {
      type: 'rejected'
      topic: string
      partition: number
      offset: number
      error: DualityError
      rejections: Rejection[]
    }
  | { type: 'reset'; topic: string }

/**
 * Sync of topics with a server log: each synced topic is a follower replica of the
 * server's, same offsets and records; local sends go to its outbox (`__outbox.<topic>`) and are
 * pushed by a persisted idempotent producer; records that come back confirm the outbox. Works
 * offline from the first start: sends are kept until the server is reachable.
 *
 * Run one Sync per database at a time (the worker runtime holds a Web Lock for it).
 */
export class Sync {
  private readonly abort = new AbortController()
  private readonly listeners = new Set<(event: SyncEvent) => void>()
  private readonly state: Map<
    string,
    {
      upToDate: Map<number, boolean>
      serverEnd: Map<number, number>
      error: DualityError | null
      run: AbortController | null
    }
  >
  private connection: Connection = 'syncing'
  private running: Promise<void>[] = []

  constructor(
    private readonly log: Log,
    private readonly options: SyncOptions,
  ) {
    this.synced = new Set(options.topics.map((spec) => spec.topic))
    this.state = new Map(
      options.topics.map((spec) => [
        spec.topic,
        { upToDate: new Map(), serverEnd: new Map(), error: null, run: null },
      ]),
    )
  }

  /**
   * Where a send to `topic` goes: a synced topic's sends go to its outbox, every other topic's
   * to the topic. The topic itself is the server's mirror, written only by the puller.
   */
  readonly route = (topic: string): string => (this.synced.has(topic) ? outboxTopic(topic) : topic)

  private readonly synced: Set<string>

  /**
   * A producer whose sends to synced topics wait in their outboxes, shown as pending, until the
   * server has them: what the app sends with (the worker's page API uses one). The log's own
   * `log.producer()` writes to the log as it is, for a synced topic the server's mirror.
   */
  producer(config: ProducerConfig = {}): Producer {
    return this.log.producer({ ...config, route: this.route })
  }

  /**
   * Creates the local topics and outboxes: what every tab does (sends happen in every tab);
   * `start` then syncs, in one of them.
   */
  async prepare(): Promise<void> {
    if (this.prepared) return this.prepared
    this.prepared = this.createTopics()
    // Refusals are written by the syncing tab and dismissed in any tab: every tab's status shows
    // the same list (appends elsewhere reach this log through the tab bridge).
    const rejections = new Set(this.options.topics.map((spec) => rejectionsTopic(spec.topic)))
    const off = this.log.onAppend((events) => {
      if (events.some((e) => rejections.has(e.topic))) this.changed()
    })
    this.abort.signal.addEventListener('abort', off)
    return this.prepared
  }

  private prepared: Promise<void> | null = null

  private async createTopics(): Promise<void> {
    const admin = this.log.admin()
    const specs = this.options.topics
    await admin.createTopics({
      ifNotExists: true,
      topics: specs.flatMap((spec) => [
        spec,
        rejectionsTopicSpec(spec.topic),
        {
          topic: outboxTopic(spec.topic),
          numPartitions: spec.numPartitions ?? 1,
          // The outbox holds sends until the server has them: never compacted, never expired.
          configEntries: [{ name: 'retention.ms', value: '-1' }],
        },
      ]),
    })
  }

  /** Prepares (see `prepare`), then pulls and pushes every synced topic until `stop`. */
  async start(): Promise<void> {
    await this.prepare()
    const specs = this.options.topics
    for (const spec of specs) this.running.push(this.syncTopic(spec))
    const off = this.log.onAppend((events) => {
      if (events.some((e) => specs.some((s) => e.topic === outboxTopic(s.topic)))) this.changed()
    })
    this.abort.signal.addEventListener('abort', off)
  }

  /** Stops syncing; local sends keep going to the outboxes. */
  async stop(): Promise<void> {
    this.abort.abort()
    await Promise.all(this.running)
  }

  /**
   * Another tab runs the sync: this one learns its status and notices from it, so that every tab
   * shows the same connection, errors and refusals.
   */
  relay(message: SyncRelay): void {
    if (message.type === 'rejected') {
      this.emit({ ...message, error: errorFromJSON(message.error) })
      this.changed()
      return
    }
    if (message.type === 'reset') {
      this.emit(message)
      return
    }
    if (message.type === 'ask') return
    this.connection = message.connection
    for (const spec of this.options.topics) {
      const s = this.state.get(spec.topic)!
      const upToDate = message.upToDate[spec.topic] ?? false
      for (let p = 0; p < (spec.numPartitions ?? 1); p++) s.upToDate.set(p, upToDate)
      const error = message.errors[spec.topic]
      s.error = error ? errorFromJSON(error) : null
    }
    this.changed()
  }

  /** Sync cannot run in this environment: every topic shows why. */
  unavailable(error: DualityError): void {
    for (const s of this.state.values()) s.error = error
    this.changed()
  }

  subscribe(listener: (event: SyncEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async status(): Promise<SyncStatus> {
    const topics: Record<string, TopicStatus> = {}
    for (const spec of this.options.topics) {
      const s = this.state.get(spec.topic)!
      const ends = await this.replicaEnds(spec.topic)
      const outbox = await this.log.offsets(outboxTopic(spec.topic))
      let pending = 0
      let lag: number | null = 0
      for (const { partition, high } of outbox) {
        const sync = await readSyncState(this.log, spec.topic, partition)
        const rejected = (sync.push?.rejected ?? []).filter((o) => o >= sync.confirmed).length
        pending += Math.max(0, high - sync.confirmed - rejected)
        const serverEnd = s.serverEnd.get(partition)
        const end = ends?.[partition]
        if (serverEnd === undefined || end === undefined || lag === null) lag = null
        else lag += Math.max(0, serverEnd - end.high)
      }
      const upToDate = ends !== null && ends.every((e) => s.upToDate.get(e.partition) === true)
      const rejections = await readRejections(this.log, spec.topic)
      topics[spec.topic] = { pending, lag, upToDate, error: s.error, rejections }
    }
    return { connection: this.connection, topics }
  }

  /**
   * The replica's partition ends; null while a reset has deleted it and not yet created it again
   * (a status asked for then is "catching up", not an error).
   */
  private async replicaEnds(topic: string): Promise<PartitionOffsets[] | null> {
    try {
      return await this.log.offsets(topic)
    } catch (error) {
      if (error instanceof UnknownTopicError) return null
      throw error
    }
  }

  /** The refused sends of `topic` (of every synced topic without it), oldest first. */
  async rejections(topic?: string): Promise<Rejection[]> {
    const topics = topic === undefined ? this.options.topics.map((s) => s.topic) : [topic]
    for (const t of topics) this.checkSynced(t)
    const lists = await Promise.all(topics.map((t) => readRejections(this.log, t)))
    return lists.flat()
  }

  /**
   * Removes refusals the app has dealt with (shown, or sent again as a new record), each named by
   * its outbox partition and offset; without `which`, all of the topic's.
   */
  async dismissRejections(
    topic: string,
    which?: readonly { partition: number; offset: number }[],
  ): Promise<void> {
    this.checkSynced(topic)
    await dismissRejections(this.log, topic, which ?? (await readRejections(this.log, topic)))
  }

  private checkSynced(topic: string): void {
    if (!this.synced.has(topic))
      throw new InvalidArgumentError(`Topic "${topic}" is not synced: it has no rejections`)
  }

  private emit(event: SyncEvent): void {
    for (const listener of this.listeners) listener(event)
  }

  /** Tells the listeners the status again (something they show besides sync changed). */
  refresh(): void {
    this.changed()
  }

  /**
   * Tells the listeners the status, once for the changes of one turn: a refused batch of 500
   * records, say, is one status read, not 500.
   */
  private changed(): void {
    if (this.listeners.size === 0 || this.statusQueued) return
    this.statusQueued = true
    queueMicrotask(() => {
      // Cleared before the read starts: a change during it queues a read after it.
      this.statusQueued = false
      void this.status().then(
        (status) => this.emit({ type: 'status', status }),
        () => undefined,
      )
    })
  }

  private statusQueued = false

  private setConnection(error: unknown): void {
    const next: Connection =
      error === null ? 'online' : error instanceof NetworkError ? 'offline' : 'syncing'
    if (next !== this.connection) {
      this.connection = next
      this.changed()
    }
  }

  /** One topic: find the server's topic, then pull and push every partition until stopped. */
  private async syncTopic(spec: TopicSpec): Promise<void> {
    const signal = this.abort.signal
    const s = this.state.get(spec.topic)!
    for (let attempt = 0; !signal.aborted;) {
      try {
        const outcome = await this.round(spec, signal)
        if (outcome === 'stop') return
        attempt = 0
      } catch (error) {
        if (signal.aborted) return
        // Anything unexpected (a storage failure, a closed log): shown, then tried again later.
        s.error = error instanceof DualityError ? error : new UnknownError(String(error))
        this.changed()
        this.setConnection(error)
        await sleep(backoffDelay(attempt++), signal)
      }
    }
  }

  /**
   * One round: describe the server's topic (a new id means the server was reset: copy it all
   * again), then pull and push every partition until stopped or until the server has dropped what
   * the replica needs next (410: copy the replica again, same producers).
   */
  private async round(spec: TopicSpec, signal: AbortSignal): Promise<'stop' | 'again'> {
    const s = this.state.get(spec.topic)!
    const numPartitions = spec.numPartitions ?? 1
    let remote
    for (let attempt = 0; ;) {
      try {
        remote = await this.options.transport.describeTopic(spec.topic, signal)
        break
      } catch (error) {
        if (signal.aborted) return 'stop'
        this.setConnection(error)
        await sleep(backoffDelay(attempt++), signal)
      }
    }
    this.setConnection(null)
    if (remote.numPartitions !== numPartitions) {
      s.error = new InvalidConfigError(
        `Topic "${spec.topic}" has ${numPartitions} partitions here but ${remote.numPartitions} on the server; it is not synced`,
      )
      this.changed()
      return 'stop'
    }
    const known = await this.remoteId(spec)
    if (known !== null && known !== remote.id) {
      await this.rebootstrap(spec, { newServer: true })
      this.emit({ type: 'reset', topic: spec.topic })
    }
    // Recorded only once the replica follows this server: a crash before it redoes the reset.
    if (known !== remote.id) await this.recordRemoteId(spec, remote.id)
    s.error = null
    const round = new AbortController()
    const stopRound = () => round.abort()
    signal.addEventListener('abort', stopRound)
    s.run = round
    let gone = false
    const failures: unknown[] = []
    const guard = (run: Promise<void>) =>
      run.catch((error: unknown) => {
        failures.push(error)
        round.abort()
      })
    const partitions = Array.from({ length: numPartitions }, (_, p) => p)
    await Promise.all(
      partitions.flatMap((partition) => [
        guard(
          new Puller(this.log, this.options.transport, spec.topic, partition, {
            pulled: ({ upToDate, serverEnd }) => {
              this.setConnection(null)
              s.upToDate.set(partition, upToDate)
              if (serverEnd !== null) s.serverEnd.set(partition, serverEnd)
              this.changed()
            },
            retrying: (error) => this.setConnection(error),
            gone: () => {
              gone = true
              round.abort()
            },
          }).run(round.signal),
        ),
        guard(
          new Pusher(
            this.log,
            this.options.transport,
            spec.topic,
            partition,
            {
              rejected: ({ rejections, error }) => {
                const { offset } = rejections[0]!
                this.emit({
                  type: 'rejected',
                  topic: spec.topic,
                  partition,
                  offset,
                  error,
                  rejections,
                })
                this.changed()
              },
              retrying: (error) => this.setConnection(error),
              succeeded: () => this.setConnection(null),
            },
            {
              ...(this.options.maxBatch === undefined ? {} : { maxBatch: this.options.maxBatch }),
              newProducerId: () =>
                this.options.producerIdPrefix === undefined
                  ? crypto.randomUUID()
                  : `${this.options.producerIdPrefix}/${crypto.randomUUID()}`,
            },
          ).run(round.signal),
        ),
      ]),
    )
    signal.removeEventListener('abort', stopRound)
    if (failures.length > 0) throw failures[0]
    if (!gone) return 'stop'
    // Same server, but retention dropped what the replica needs next: copy the replica again.
    // Pushes go on with the same producers (what they pushed is on this server).
    await this.rebootstrap(spec, { newServer: false })
    this.emit({ type: 'reset', topic: spec.topic })
    return 'again'
  }

  /** The id of the server topic this replica was copied from (null: never synced yet). */
  private async remoteId(spec: TopicSpec): Promise<string | null> {
    const outbox = outboxTopic(spec.topic)
    const [row] = await this.log.admin().fetchOffsets({ groupId: REMOTE, topics: [outbox] })
    return row!.partitions[0]!.metadata
  }

  private async recordRemoteId(spec: TopicSpec, id: string): Promise<void> {
    await this.log.admin().setOffsets({
      groupId: REMOTE,
      topic: outboxTopic(spec.topic),
      partitions: [{ partition: 0, offset: 0, metadata: id }],
    })
  }

  /**
   * Drops the replica and copies it again: the server's topic was re-created (`newServer`), or
   * retention removed what the replica had not copied yet. For a new server, local sends not yet
   * confirmed are pushed again under a new producer id (its producer state is new too); on the
   * same server the producers go on as they were. Every step can be redone after a crash.
   */
  private async rebootstrap(spec: TopicSpec, { newServer }: { newServer: boolean }): Promise<void> {
    const admin = this.log.admin()
    if ((await admin.listTopics()).includes(spec.topic))
      await admin.deleteTopics({ topics: [spec.topic] })
    await admin.createTopics({ topics: [spec], ifNotExists: true })
    const s = this.state.get(spec.topic)!
    s.upToDate.clear()
    s.serverEnd.clear()
    if (!newServer) return
    const outbox = outboxTopic(spec.topic)
    const partitions = Array.from({ length: spec.numPartitions ?? 1 }, (_, p) => p)
    const states = await Promise.all(partitions.map((p) => readSyncState(this.log, spec.topic, p)))
    await admin.setOffsets({
      groupId: PUSHED,
      topic: outbox,
      partitions: partitions.map((partition, i) => ({
        partition,
        offset: states[i]!.confirmed,
        metadata: null,
      })),
    })
  }
}
