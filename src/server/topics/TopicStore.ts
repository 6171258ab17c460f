import type { CreateRequest } from '../engine/outcomes.ts'
import type { StreamRow } from '../engine/streamRows.ts'
import type { Awaitable } from '../engine/Engine.ts'
import type { PartitionCleanReport } from './topicCleaner.ts'

/**
 * What the topic admin asks of a backend: the partition streams of topics, kept together. The
 * rules (names, partition counts, configs, descriptions, cleaning plans) live in TopicAdmin and
 * topicCleaner, once; a backend only stores. Implemented by the embedded engine (one SQLite
 * transaction per operation) and JetStream (a topic entry in the metadata bucket); both pass the
 * same contract (test/contract/engineContract.ts).
 */
export interface TopicStore {
  /**
   * Creates a new topic's partition streams (`partitions[p]` creates partition p), all or none.
   * Throws TopicExistsError when the topic, or a stream at one of the paths, already exists.
   */
  createPartitions(topic: string, partitions: readonly CreateRequest[]): Awaitable<void>
  /** The topic's partition streams in partition order; empty when there is no such topic. */
  partitions(topic: string): Awaitable<StreamRow[]>
  /** The names of every topic. */
  topicNames(): Awaitable<string[]>
  /** Deletes the topic and its partition streams. */
  deleteTopic(topic: string): Awaitable<void>
  /**
   * Whether this server should run the background cleaner now: true for one server at a time
   * among those sharing the storage (a lease renewed every pass, which lapses after three missed
   * intervals), so that servers do not clean the same topics at once.
   */
  leadCleaning(intervalMs: number): Awaitable<boolean>
  /**
   * Applies retention and compaction (topicCleaner's plan) to one partition now; a partition that
   * no longer exists (its topic was deleted meanwhile) reports nothing cleaned.
   */
  cleanPartition(path: string, now: number): Awaitable<PartitionCleanReport>
}
