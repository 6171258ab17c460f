import {
  InvalidArgumentError,
  InvalidPartitionsError,
  UnknownTopicError,
} from '../../log/errors.ts'
import { parseTopicConfig, type TopicConfig } from '../../log/TopicConfig.ts'
import {
  formatOffset,
  legalTopicName,
  partitionPath,
  type CreateTopicRequest,
  type TopicDescription as WireTopicDescription,
} from '../../protocol/index.ts'
import type { CreateRequest } from '../engine/outcomes.ts'
import type { Engine } from '../engine/Engine.ts'
import type { PartitionCleanReport } from './topicCleaner.ts'
import { partitionOf, topicIdOf, type PartitionSettings } from './partitionSettings.ts'
import { topicConfigOf } from './topicRecords.ts'

/** A topic as the admin API describes it (src/protocol), with the config typed as parsed. */
export type TopicDescription = WireTopicDescription<TopicConfig>

/**
 * Topics on top of streams, on any backend: a topic is N JSON streams, one per partition,
 * created, described, cleaned and deleted together, with Kafka's config names. The rules are
 * here; the backend's TopicStore keeps the partitions together.
 */
export class TopicAdmin {
  constructor(private readonly engine: Engine) {}

  private checkName(topic: string): void {
    if (!legalTopicName(topic)) {
      throw new InvalidArgumentError(
        `"${topic}" is not a legal topic name: 1-249 of a-z A-Z 0-9 . _ - (and not . or ..)`,
      )
    }
  }

  async createTopic(topic: string, request: CreateTopicRequest): Promise<TopicDescription> {
    this.checkName(topic)
    const numPartitions = request.numPartitions ?? 1
    if (!Number.isSafeInteger(numPartitions) || numPartitions < 1 || numPartitions > 10_000) {
      throw new InvalidPartitionsError(`numPartitions must be an integer from 1 to 10000`)
    }
    const config = parseTopicConfig(topic, request.configEntries ?? [])
    const id = crypto.randomUUID()
    const partitions = Array.from({ length: numPartitions }, (_, partition): CreateRequest => {
      const settings: PartitionSettings = { topic, id, partition, numPartitions }
      return {
        path: partitionPath(topic, partition),
        contentType: 'application/json',
        ttlSeconds: undefined,
        expiresAt: undefined,
        closed: false,
        body: new Uint8Array(),
        fork: undefined,
        topic: JSON.stringify({ ...settings, config }),
      }
    })
    await this.engine.topics.createPartitions(topic, partitions)
    // The topic as created, not read back: a deletion racing the answer must not turn a
    // creation that succeeded into a 404.
    return description(
      topic,
      id,
      config,
      partitions.map((p, partition) => ({
        partition,
        path: p.path,
        startOffset: 0,
        nextOffset: 0,
      })),
    )
  }

  async describeTopic(topic: string): Promise<TopicDescription> {
    this.checkName(topic)
    const rows = await this.engine.topics.partitions(topic)
    const first = rows[0]
    if (!first) throw new UnknownTopicError(`Topic "${topic}" does not exist`)
    return description(
      topic,
      // Topics made before ids existed get one from their first stream's creation.
      topicIdOf(first) ?? `created-${String(first.createdAt)}`,
      topicConfigOf(first)!,
      rows.map((r) => ({ ...r, partition: partitionOf(r) })),
    )
  }

  async listTopics(): Promise<string[]> {
    return (await this.engine.topics.topicNames()).sort()
  }

  async deleteTopic(topic: string): Promise<void> {
    await this.describeTopic(topic)
    await this.engine.topics.deleteTopic(topic)
  }

  /** Runs retention and compaction on every partition of the topic now. */
  async cleanTopic(topic: string): Promise<PartitionCleanReport[]> {
    const { partitions } = await this.describeTopic(topic)
    const reports: PartitionCleanReport[] = []
    for (const p of partitions) {
      reports.push(await this.engine.topics.cleanPartition(p.path, this.engine.now()))
    }
    return reports
  }

  /** Cleans every topic: what the background cleaner runs. */
  async cleanAll(): Promise<void> {
    for (const topic of await this.listTopics()) {
      try {
        await this.cleanTopic(topic)
      } catch (error) {
        // Deleted since it was listed: nothing to clean, and the pass goes on to the others.
        if (!(error instanceof UnknownTopicError)) throw error
      }
    }
  }

  /** One pass of the background cleaner, run every `intervalMs` by each server: one of them cleans. */
  async backgroundPass(intervalMs: number): Promise<void> {
    if (await this.engine.topics.leadCleaning(intervalMs)) await this.cleanAll()
  }
}

type PartitionPosition = {
  partition: number
  path: string
  startOffset: number
  nextOffset: number
}

function description(
  topic: string,
  id: string,
  config: TopicConfig,
  partitions: readonly PartitionPosition[],
): TopicDescription {
  return {
    topic,
    id,
    numPartitions: partitions.length,
    config,
    partitions: partitions.map(({ partition, path, startOffset, nextOffset }) => ({
      partition,
      path,
      startOffset,
      nextOffset,
      start: formatOffset(startOffset),
      next: formatOffset(nextOffset),
    })),
  }
}
