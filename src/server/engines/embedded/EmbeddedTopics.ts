import { TopicExistsError } from '../../../log/errors.ts'
import type { CreateRequest } from '../../engine/outcomes.ts'
import type { StreamRow } from '../../engine/streamRows.ts'
import type { Awaitable } from '../../engine/Engine.ts'
import type { EmbeddedEngine } from './EmbeddedEngine.ts'
import {
  nothingCleaned,
  planCleaning,
  type PartitionCleanReport,
} from '../../topics/topicCleaner.ts'
import { topicsPrefix } from '../../../protocol/index.ts'
import { partitionOf, topicNameOf } from '../../topics/partitionSettings.ts'
import type { TopicStore } from '../../topics/TopicStore.ts'

/**
 * Topics on the embedded engine (SQLite, memory): each partition row carries its topic's
 * settings, so there is no second source of truth, and each operation is one storage
 * transaction, so a topic is created, deleted or cleaned all at once.
 */
export class EmbeddedTopics implements TopicStore {
  constructor(private readonly engine: EmbeddedEngine) {}

  createPartitions(topic: string, partitions: readonly CreateRequest[]): Awaitable<void> {
    // "Exists" only once that is durable, as for streams.
    return this.engine.whenSettledUnder(`${topicsPrefix}${topic}/`, () =>
      this.createNow(topic, partitions),
    )
  }

  private createNow(topic: string, partitions: readonly CreateRequest[]): Awaitable<void> {
    const { storage } = this.engine
    storage.transaction(() => {
      if (this.rows(topic).length > 0) {
        throw new TopicExistsError(`Topic "${topic}" already exists`)
      }
      for (const request of partitions) {
        if (this.engine.createStreamNow(request).kind !== 'created') {
          throw new TopicExistsError(`A stream already exists at ${request.path}`)
        }
      }
    })
    return this.engine.durably(
      undefined,
      partitions.map((p) => p.path),
    )
  }

  /**
   * As readers see them: after the topic's own pending creation or deletion is durable (what
   * describe and delete answer must not rest on it), with durable tails.
   */
  partitions(topic: string): Awaitable<StreamRow[]> {
    return this.engine.whenSettledUnder(`${topicsPrefix}${topic}/`, () =>
      this.rows(topic).flatMap((r) => this.engine.durableRow(r) ?? []),
    )
  }

  /** The topic's partition rows as stored now, in partition order. */
  private rows(topic: string): StreamRow[] {
    return this.engine.storage
      .listStreams(`${topicsPrefix}${topic}/`)
      .filter((r) => r.topic !== null && !r.softDeleted)
      .sort((a, b) => partitionOf(a) - partitionOf(b))
  }

  /**
   * The durable state, without waiting: topics whose creation is not durable yet are left out
   * (waiting on every topic's changes, a listing under churn could wait for ever).
   */
  topicNames(): string[] {
    const names = new Set<string>()
    for (const row of this.engine.storage.listStreams(topicsPrefix)) {
      if (row.topic !== null && this.engine.durableRow(row)) names.add(topicNameOf(row))
    }
    return [...names]
  }

  deleteTopic(topic: string): Awaitable<void> {
    const rows = this.engine.storage.transaction(() => {
      const rows = this.rows(topic)
      for (const row of rows) this.engine.deleteNow(row.path)
      return rows
    })
    return this.engine.durably(
      undefined,
      rows.map((r) => r.path),
    )
  }

  /** One process owns an embedded store: it always cleans. */
  leadCleaning(): boolean {
    return true
  }

  cleanPartition(path: string, now: number): Awaitable<PartitionCleanReport> {
    const { storage } = this.engine
    const report = storage.transaction(() => {
      const stored = storage.getStream(path)
      if (!stored || stored.topic === null) return nothingCleaned(path)
      // Planned on what is durable: retention must not move the start past the tail readers
      // see, nor compaction drop a durable record for a newer one a power cut could take back.
      const row = this.engine.durableRow(stored)
      if (!row) return nothingCleaned(path)
      const records = storage.readRecords(row.id, row.startOffset, row.nextOffset, Infinity)
      const plan = planCleaning(row, records, now)
      if (plan.startOffset > row.startOffset) {
        storage.deleteRecordsBelow(row.id, plan.startOffset)
        storage.updateStream({ ...stored, startOffset: plan.startOffset })
      }
      storage.deleteRecords(row.id, plan.compacted)
      return plan.report
    })
    return this.engine.durably(report)
  }
}
