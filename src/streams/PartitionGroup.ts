import { OffsetOutOfRangeError } from '../log/errors.ts'
import type { Log, Message } from '../log/Log.ts'

/** A run of records from one input partition, to process and commit together. */
export interface InputBatch {
  topic: string
  partition: number
  records: Message[]
  /** The input position to commit with this batch. */
  nextOffset: number
}

const idOf = (topic: string, partition: number) => `${topic}\u0000${partition}`

/** Kafka's MAX_TASK_IDLE_MS_DISABLED: never wait for an empty partition. */
export const MAX_TASK_IDLE_MS_DISABLED = -1

/**
 * The input partitions of a task and its read positions (Kafka's PartitionGroup). `next()` picks
 * records across the partitions in timestamp order (ties: the order the partitions were added), as
 * Kafka Streams does within a task. The order then depends only on the data, so an instance
 * restarted from its last commit processes exactly what an uninterrupted one would.
 *
 * While some partitions have records and others are empty, `maxTaskIdleMs` (Kafka's
 * max.task.idle.ms, KIP-353 / KIP-695) says how long to wait for the empty ones, so that a record
 * arriving there with an earlier timestamp is still taken first. Each empty partition's wait starts
 * when it is first seen empty and caught up (read to its high watermark: no lag), by the log's
 * clock; once every empty partition's deadline has passed, the others are processed anyway
 * (Kafka's enforced processing). 0 (the default) waits for nothing that is not already in the
 * log; -1 does not wait at all (in a local log both read every partition before choosing, so they
 * differ only for records that arrive meanwhile).
 */
export class PartitionGroup {
  private readonly positions = new Map<string, { topic: string; partition: number; at: number }>()
  private readonly buffers = new Map<string, { records: Message[]; nextOffset: number }>()
  /**
   * Each partition's high watermark as last heard (a fetch, or an append event through `hint`): a
   * partition read up to it is not read again until a hint moves it or `refresh()` is called. A
   * live record then costs one read, of its own partition, not one per input partition.
   */
  private readonly known = new Map<string, number>()
  private stale = true
  /** Per empty partition: when its wait for records ends (Kafka's idlePartitionDeadlines). */
  private readonly idleDeadlines = new Map<string, number>()
  /**
   * Set when `next()` returned null to wait for empty partitions: the clock time at which waiting
   * ends (or the first wait ends, with several), so the caller knows when to look again.
   */
  waitingUntil: number | undefined

  constructor(
    private readonly log: Log,
    private readonly maxTaskIdleMs = 0,
  ) {}

  add(topic: string, partition: number, offset: number): void {
    this.positions.set(idOf(topic, partition), { topic, partition, at: offset })
  }

  /** An append reached `highWatermark` in this partition (Log.onAppend). */
  hint(topic: string, partition: number, highWatermark: number): void {
    const id = idOf(topic, partition)
    if (!this.positions.has(id)) return
    this.known.set(id, Math.max(highWatermark, this.known.get(id) ?? 0))
  }

  /** The next `next()` reads every partition: appends may have gone unheard (no tab bridge). */
  refresh(): void {
    this.stale = true
  }

  /**
   * The next batch, of at most `maxRecords`, or null when every partition is caught up or the
   * task waits for empty partitions (then `waitingUntil` says until when).
   */
  async next(maxRecords: number): Promise<InputBatch | null> {
    const order = [...this.positions.entries()]
    const all = this.stale
    this.stale = false
    // What this call learnt of each empty partition's lag: read to its end, or position reset.
    const read = new Set<string>()
    const reset = new Set<string>()
    // Every empty buffer is refilled at once: the reads overlap instead of queueing one by one
    // (a record that just arrived in one of three partitions waited for three reads before).
    await Promise.all(
      order.map(async ([id, position]) => {
        if (this.buffers.get(id)?.records.length) return
        const known = this.known.get(id)
        if (!all && known !== undefined && position.at >= known) return
        const { topic, partition } = position
        try {
          const chunk = await this.log.fetch({ topic, partition, offset: position.at, maxRecords })
          this.known.set(id, Math.max(chunk.highWatermark, this.known.get(id) ?? 0))
          this.buffers.set(id, { records: chunk.records, nextOffset: chunk.nextOffset })
          read.add(id)
          // Nothing but a gap (compaction): move past it.
          if (chunk.records.length === 0) position.at = chunk.nextOffset
        } catch (error) {
          if (!(error instanceof OffsetOutOfRangeError)) throw error
          // Retention removed what we had not read yet: Kafka's auto.offset.reset=earliest.
          position.at = (await this.log.offsets(topic)).find((o) => o.partition === partition)!.low
          reset.add(id)
        }
      }),
    )
    this.waitingUntil = undefined
    const buffered = order
      .map(([id, position], rank) => ({ id, position, rank, buffer: this.buffers.get(id) }))
      .filter((h) => h.buffer?.records.length)
    const ready = this.readyToProcess(new Set(buffered.map((h) => h.id)), read, reset)
    // Partitions waiting for their task's empty ones neither go nor hold the others back.
    const heads = buffered.filter((h) => ready.has(h.id))
    if (heads.length === 0) return null
    const first = (h: (typeof heads)[number]) => h.buffer!.records[0]!.timestamp
    heads.sort((x, y) => first(x) - first(y) || x.rank - y.rank)
    const chosen = heads[0]!
    const others = heads.slice(1)
    const records = chosen.buffer!.records
    // Take records while each still comes before every other partition's next record.
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
    const nextOffset = records.length > 0 ? records[0]!.offset : chosen.buffer!.nextOffset
    return {
      topic: chosen.position.topic,
      partition: chosen.position.partition,
      records: taken,
      nextOffset,
    }
  }

  /**
   * Kafka's PartitionGroup.readyToProcess, per task: which of the `buffered` partitions may be
   * processed now, and which must wait for their task's empty partitions? Kafka's task is one
   * partition number of the co-partitioned inputs, so partitions wait only for the empty
   * partitions of the same number (in topics of unrelated sub-topologies too: see docs/streams.md).
   */
  private readyToProcess(
    buffered: Set<string>,
    read: Set<string>,
    reset: Set<string>,
  ): Set<string> {
    const now = this.log.clock()
    // Per partition number: when its wait ends (now: look again at once), if it must wait.
    const waits = new Map<number, number>()
    const wait = (n: number, until: number) => waits.set(n, Math.min(waits.get(n) ?? until, until))
    for (const [id, position] of this.positions) {
      if (buffered.has(id)) {
        this.idleDeadlines.delete(id)
        continue
      }
      const known = this.known.get(id)
      if (reset.has(id) || (!read.has(id) && known !== undefined && position.at < known)) {
        // Its lag is unknown (its read position was just reset) or records arrived while this
        // call read the others: Kafka waits for the fetch; the next call makes it, at once.
        this.idleDeadlines.delete(id)
        wait(position.partition, now)
        continue
      }
      // Empty and read to its end: wait up to max.task.idle.ms for records to arrive.
      let deadline = this.idleDeadlines.get(id)
      if (deadline === undefined) this.idleDeadlines.set(id, (deadline = now + this.maxTaskIdleMs))
      if (now < deadline) wait(position.partition, deadline)
    }
    const ready = new Set<string>()
    let until = Infinity
    for (const id of buffered) {
      const n = this.positions.get(id)!.partition
      const end = waits.get(n)
      if (end === undefined || this.maxTaskIdleMs === MAX_TASK_IDLE_MS_DISABLED) ready.add(id)
      else until = Math.min(until, end)
    }
    // Nothing buffered but a partition to read again: do it at once (its append event may have
    // come while this call was reading).
    if (buffered.size === 0 && [...waits.values()].includes(now)) until = now
    if (ready.size === 0 && until !== Infinity) this.waitingUntil = until
    return ready
  }

  /** Called once the batch committed: later reads start after it. */
  committed(batch: InputBatch): void {
    this.positions.get(idOf(batch.topic, batch.partition))!.at = batch.nextOffset
  }
}
