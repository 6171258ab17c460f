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

/**
 * The input partitions of a task and its read positions (Kafka's PartitionGroup). `next()` picks
 * records across the partitions in timestamp order (ties: the order the partitions were added), as
 * Kafka Streams does within a task. The order then depends only on the data, so an instance
 * restarted from its last commit processes exactly what an uninterrupted one would.
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

  constructor(private readonly log: Log) {}

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

  /** The next batch, of at most `maxRecords`, or null when every partition is caught up. */
  async next(maxRecords: number): Promise<InputBatch | null> {
    const order = [...this.positions.entries()]
    const all = this.stale
    this.stale = false
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
          // Nothing but a gap (compaction): move past it.
          if (chunk.records.length === 0) position.at = chunk.nextOffset
        } catch (error) {
          if (!(error instanceof OffsetOutOfRangeError)) throw error
          // Retention removed what we had not read yet: Kafka's auto.offset.reset=earliest.
          position.at = (await this.log.offsets(topic)).find((o) => o.partition === partition)!.low
        }
      }),
    )
    const heads = order
      .map(([id, position], rank) => ({ id, position, rank, buffer: this.buffers.get(id) }))
      .filter((h) => h.buffer?.records.length)
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

  /** Called once the batch committed: later reads start after it. */
  committed(batch: InputBatch): void {
    this.positions.get(idOf(batch.topic, batch.partition))!.at = batch.nextOffset
  }
}
