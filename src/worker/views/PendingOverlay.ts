import type { Log } from '../../log/Log.ts'
import type { KafkaStreams } from '../../streams/KafkaStreams.ts'
import { outboxTopic, readSyncState } from '../../sync/syncState.ts'
import type { PendingValue } from './viewWire.ts'

/** Where a view's pending overlay is kept: next to its changelog, one record. */
export const pendingTopic = (changelogTopic: string): string => `${changelogTopic}.pending`

const OVERLAY_KEY = JSON.stringify('overlay')
const EMPTY = JSON.stringify({ puts: [], deletes: [] })

interface PendingRecord {
  topic: string
  key: unknown
  value: unknown
  timestamp: number
}

/**
 * Sync's rebase, for views: what the topology's stores would hold with the records it has not
 * confirmed yet. Those are the local sends still in a synced topic's outbox, plus what the
 * replica received but the topology has not processed yet (so a record that just came back is
 * never missing from both). `KafkaStreams.speculate` runs them without changing anything; the
 * result, per store, is written as one record to `<changelog>.pending`, which every tab's view
 * mirror follows like the changelog itself. Recomputed after every change of an outbox, a replica
 * or a changelog; only the tab whose instance runs the topology computes it.
 */
export class PendingOverlay {
  private running = false
  private again = false
  private readonly written = new Map<string, string>()
  private readonly offs: (() => void)[] = []

  constructor(
    private readonly log: Log,
    private readonly streams: KafkaStreams,
    private readonly options: { applicationId: string; synced: string[]; stores: string[] },
  ) {}

  start(): void {
    const watched = new Set([
      ...this.options.synced,
      ...this.options.synced.map(outboxTopic),
      ...this.options.stores.map((s) => this.streams.changelogTopic(s)),
    ])
    this.offs.push(
      this.log.onAppend((events) => {
        if (events.some((e) => watched.has(e.topic))) this.schedule()
      }),
      this.streams.onStateChange((state) => state === 'RUNNING' && this.schedule()),
    )
    this.schedule()
  }

  close(): void {
    for (const off of this.offs) off()
    clearTimeout(this.timer)
    clearTimeout(this.retry)
  }

  private timer: ReturnType<typeof setTimeout> | undefined
  private retry: ReturnType<typeof setTimeout> | undefined

  private schedule(): void {
    if (this.running) {
      this.again = true
      return
    }
    this.running = true
    void (async () => {
      do {
        this.again = false
        await this.recompute().catch(() => undefined)
      } while (this.again && !this.log.isClosed)
      this.running = false
    })()
  }

  private async recompute(): Promise<void> {
    if (this.streams.currentState !== 'RUNNING' || this.log.isClosed) return
    const lists = (await Promise.all(this.options.synced.map((t) => this.unconfirmed(t)))).flat()
    const overlays = this.streams.speculate(mergeByTimestamp(lists))
    if (overlays === null) {
      // A batch is committing: its changelog append wakes us, but it may have no changes.
      this.retry = setTimeout(() => this.schedule(), 10)
      return
    }
    const sends = []
    for (const store of this.options.stores) {
      const changes = overlays.get(store) ?? []
      const value: PendingValue = {
        puts: changes
          .filter((c) => c.value !== null)
          .map((c) => [JSON.stringify(c.key), c.value, 0]),
        deletes: changes.filter((c) => c.value === null).map((c) => JSON.stringify(c.key)),
      }
      const text = JSON.stringify(value)
      const topic = pendingTopic(this.streams.changelogTopic(store))
      // Nothing new to say: do not write (and wake every mirror) again. The first result after
      // start is always written: the last one may be a dead instance's, stale since.
      if (this.written.get(topic) === text) continue
      // In the changelog's own format, so the views' changelog mirror can follow it.
      sends.push({ topic, messages: [{ key: OVERLAY_KEY, value: { value, timestamp: 0 } }], text })
    }
    this.reconcile(sends.length > 0 || [...this.written.values()].some((t) => t !== EMPTY))
    if (sends.length === 0) return
    await this.log.admin().createTopics({
      ifNotExists: true,
      topics: sends.map(({ topic }) => ({
        topic,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      })),
    })
    await this.log.producer().sendBatch({
      topicMessages: sends.map(({ topic, messages }) => ({ topic, messages })),
    })
    // Only once written: a failed write is tried again by the next recompute.
    for (const { topic, text } of sends) this.written.set(topic, text)
  }

  /**
   * While something is pending, look again now and then: a refusal by the server changes what is
   * pending without an append this tab would hear of.
   */
  private reconcile(pending: boolean): void {
    clearTimeout(this.timer)
    if (pending && !this.log.isClosed) this.timer = setTimeout(() => this.schedule(), 1000)
  }

  /**
   * A synced topic's records the topology has not confirmed, one list per partition in its order:
   * each partition's unprocessed replica records, then its outbox.
   */
  private async unconfirmed(topic: string): Promise<PendingRecord[][]> {
    const lists = new Map<number, PendingRecord[]>()
    const listOf = (p: number) => lists.get(p) ?? (lists.set(p, []), lists.get(p)!)
    const [committed] = await this.log
      .admin()
      .fetchOffsets({ groupId: this.options.applicationId, topics: [topic] })
    for (const { partition, high } of await this.log.offsets(topic)) {
      const from = Math.max(0, committed!.partitions.find((p) => p.partition === partition)!.offset)
      await this.read(topic, topic, partition, from, high, [], listOf(partition))
    }
    for (const { partition, high } of await this.log.offsets(outboxTopic(topic))) {
      const state = await readSyncState(this.log, topic, partition)
      const rejected = state.push?.rejected ?? []
      const list = listOf(partition)
      await this.read(outboxTopic(topic), topic, partition, state.confirmed, high, rejected, list)
    }
    return [...lists.values()]
  }

  private async read(
    from: string,
    as: string,
    partition: number,
    offset: number,
    end: number,
    skip: number[],
    out: PendingRecord[],
  ): Promise<void> {
    while (offset < end) {
      const chunk = await this.log.fetch({ topic: from, partition, offset })
      for (const r of chunk.records) {
        if (!skip.includes(r.offset))
          out.push({ topic: as, key: r.key, value: r.value, timestamp: r.timestamp })
      }
      if (chunk.nextOffset <= offset) return
      offset = chunk.nextOffset
    }
  }
}

/**
 * One sequence from per-partition lists: each list keeps its order (a partition's order is the one
 * the server will confirm), and across lists the earlier timestamp goes first, as Kafka Streams
 * picks records within a task.
 */
function mergeByTimestamp(lists: PendingRecord[][]): PendingRecord[] {
  const out: PendingRecord[] = []
  const at = lists.map(() => 0)
  for (;;) {
    let best = -1
    for (let i = 0; i < lists.length; i++) {
      const head = lists[i]![at[i]!]
      if (head && (best < 0 || head.timestamp < lists[best]![at[best]!]!.timestamp)) best = i
    }
    if (best < 0) return out
    out.push(lists[best]![at[best]!++]!)
  }
}
