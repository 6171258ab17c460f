import type { TopicSpec } from '../log/Admin.ts'
import { DualityError, InvalidConfigError, NetworkError } from '../log/errors.ts'
import type { Log } from '../log/Log.ts'
import { backoffDelay, sleep } from './backoff.ts'
import { Puller } from './Puller.ts'
import { Pusher } from './Pusher.ts'
import { CONFIRMED, outboxTopic, PUSHED, readSyncState, REMOTE } from './syncState.ts'
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
}

export interface SyncStatus {
  connection: Connection
  topics: Record<string, TopicStatus>
}

export type SyncEvent =
  | { type: 'status'; status: SyncStatus }
  | { type: 'rejected'; topic: string; partition: number; offset: number; error: DualityError }
  | { type: 'reset'; topic: string }

/**
 * Sync of topics with a server log (DESIGN.md §3): each synced topic is a follower replica of the
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
    this.state = new Map(
      options.topics.map((spec) => [
        spec.topic,
        { upToDate: new Map(), serverEnd: new Map(), error: null, run: null },
      ]),
    )
  }

  /**
   * Creates the local topics and outboxes and routes sends to the outboxes: what every tab does
   * (sends happen in every tab); `start` then syncs, in one of them.
   */
  async prepare(): Promise<void> {
    if (this.prepared) return this.prepared
    this.prepared = this.createTopics()
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
        {
          topic: outboxTopic(spec.topic),
          numPartitions: spec.numPartitions ?? 1,
          // The outbox holds sends until the server has them: never compacted, never expired.
          configEntries: [{ name: 'retention.ms', value: '-1' }],
        },
      ]),
    })
    for (const spec of specs) this.log.redirectSends(spec.topic, outboxTopic(spec.topic))
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
   * Another tab runs the sync: this one learns its connection state (and upToDate flags) from it,
   * so every tab can show the same status.
   */
  observe(remote: { connection: Connection; upToDate: Record<string, boolean> }): void {
    this.connection = remote.connection
    for (const [topic, upToDate] of Object.entries(remote.upToDate)) {
      const s = this.state.get(topic)
      if (!s) continue
      for (
        let p = 0;
        p < (this.options.topics.find((t) => t.topic === topic)?.numPartitions ?? 1);
        p++
      )
        s.upToDate.set(p, upToDate)
    }
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
      const ends = await this.log.offsets(spec.topic)
      const outbox = await this.log.offsets(outboxTopic(spec.topic))
      let pending = 0
      let lag: number | null = 0
      for (const { partition, high } of outbox) {
        const sync = await readSyncState(this.log, spec.topic, partition)
        const rejected = (sync.push?.rejected ?? []).filter((o) => o >= sync.confirmed).length
        pending += Math.max(0, high - sync.confirmed - rejected)
        const serverEnd = s.serverEnd.get(partition)
        if (serverEnd === undefined || lag === null) lag = null
        else lag += Math.max(0, serverEnd - ends[partition]!.high)
      }
      const upToDate = ends.every((e) => s.upToDate.get(e.partition) === true)
      topics[spec.topic] = { pending, lag, upToDate, error: s.error }
    }
    return { connection: this.connection, topics }
  }

  private emit(event: SyncEvent): void {
    for (const listener of this.listeners) listener(event)
  }

  private changed(): void {
    if (this.listeners.size === 0) return
    void this.status().then(
      (status) => this.emit({ type: 'status', status }),
      () => undefined,
    )
  }

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
    const numPartitions = spec.numPartitions ?? 1
    for (let attempt = 0; !signal.aborted;) {
      let remote
      try {
        remote = await this.options.transport.describeTopic(spec.topic, signal)
      } catch (error) {
        if (signal.aborted) return
        this.setConnection(error)
        await sleep(backoffDelay(attempt++), signal)
        continue
      }
      this.setConnection(null)
      if (remote.numPartitions !== numPartitions) {
        s.error = new InvalidConfigError(
          `Topic "${spec.topic}" has ${numPartitions} partitions here but ${remote.numPartitions} on the server; it is not synced`,
        )
        this.changed()
        return
      }
      if (await this.serverWasReset(spec, remote.id)) {
        await this.rebootstrap(spec)
        this.emit({ type: 'reset', topic: spec.topic })
      }
      const round = new AbortController()
      const stopRound = () => round.abort()
      signal.addEventListener('abort', stopRound)
      s.run = round
      let gone = false
      const partitions = Array.from({ length: numPartitions }, (_, p) => p)
      await Promise.all(
        partitions.flatMap((partition) => [
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
          new Pusher(
            this.log,
            this.options.transport,
            spec.topic,
            partition,
            {
              rejected: (event) => {
                this.emit({ type: 'rejected', ...event })
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
        ]),
      )
      signal.removeEventListener('abort', stopRound)
      // A 410: what we need next is gone from the server; look at it again (reset or retention).
      if (!gone) return
      await this.rebootstrap(spec)
      this.emit({ type: 'reset', topic: spec.topic })
    }
  }

  /** Compares the server topic's id with the one this replica was copied from (and records it). */
  private async serverWasReset(spec: TopicSpec, id: string): Promise<boolean> {
    const outbox = outboxTopic(spec.topic)
    const [row] = await this.log.admin().fetchOffsets({ groupId: REMOTE, topics: [outbox] })
    const known = row!.partitions[0]!.metadata
    if (known !== id) {
      await this.log.admin().setOffsets({
        groupId: REMOTE,
        topic: outbox,
        partitions: [{ partition: 0, offset: 0, metadata: id }],
      })
    }
    return known !== null && known !== id
  }

  /**
   * The server's partition is not the one this replica follows (it was re-created, or retention
   * removed what we had not copied yet): drop the replica and copy it again. Local sends not yet
   * confirmed are pushed again, under a new producer id (the server's producer state is new too).
   */
  private async rebootstrap(spec: TopicSpec): Promise<void> {
    const admin = this.log.admin()
    await admin.deleteTopics({ topics: [spec.topic] })
    await admin.createTopics({ topics: [spec] })
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
    await admin.setOffsets({
      groupId: CONFIRMED,
      topic: outbox,
      partitions: partitions.map((partition, i) => ({ partition, offset: states[i]!.confirmed })),
    })
    const s = this.state.get(spec.topic)!
    s.upToDate.clear()
    s.serverEnd.clear()
  }
}
