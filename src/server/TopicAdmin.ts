import {
  InvalidArgumentError,
  InvalidPartitionsError,
  TopicExistsError,
  UnknownTopicError,
} from '../log/errors.ts'
import { parseTopicConfig, type ConfigEntry, type TopicConfig } from '../log/TopicConfig.ts'
import { formatOffset } from './offsets.ts'
import type { StreamEngine } from './StreamEngine.ts'
import { cleanPartition, type PartitionCleanReport } from './topicCleaner.ts'
import { topicConfigOf } from './topicRecords.ts'

/** Where topics live: partition p of topic t is the Durable Streams stream `/topics/t/p`. */
export const topicsPrefix = '/topics/'
export const partitionPath = (topic: string, partition: number): string =>
  `${topicsPrefix}${topic}/${partition}`

/** Kafka's legal topic names. */
const legalName = /^[a-zA-Z0-9._-]{1,249}$/

export interface CreateTopicRequest {
  numPartitions?: number
  configEntries?: ConfigEntry[]
}

export interface TopicDescription {
  topic: string
  /**
   * Changes when the topic is deleted and created again: a follower (sync) that copied another
   * incarnation of the topic must start over rather than merge two histories.
   */
  id: string
  numPartitions: number
  config: TopicConfig
  partitions: {
    partition: number
    path: string
    startOffset: number
    nextOffset: number
    /** The same positions as wire offsets, for Durable Streams clients. */
    start: string
    next: string
  }[]
}

/**
 * Topics on top of streams: a topic is N JSON streams, one per partition, created, described,
 * cleaned and deleted together, with Kafka's config names. Each partition row carries the topic's
 * settings, so there is no second source of truth to keep in step.
 */
export class TopicAdmin {
  constructor(private readonly engine: StreamEngine) {}

  private checkName(topic: string): void {
    if (!legalName.test(topic) || topic === '.' || topic === '..') {
      throw new InvalidArgumentError(
        `"${topic}" is not a legal topic name: 1-249 of a-z A-Z 0-9 . _ - (and not . or ..)`,
      )
    }
  }

  createTopic(topic: string, request: CreateTopicRequest): TopicDescription {
    this.checkName(topic)
    const numPartitions = request.numPartitions ?? 1
    if (!Number.isSafeInteger(numPartitions) || numPartitions < 1 || numPartitions > 10_000) {
      throw new InvalidPartitionsError(`numPartitions must be an integer from 1 to 10000`)
    }
    const config = parseTopicConfig(topic, request.configEntries ?? [])
    const { storage } = this.engine
    const id = crypto.randomUUID()
    return storage.transaction(() => {
      if (storage.getStream(partitionPath(topic, 0))) {
        throw new TopicExistsError(`Topic "${topic}" already exists`)
      }
      for (let partition = 0; partition < numPartitions; partition++) {
        const outcome = this.engine.createStream({
          path: partitionPath(topic, partition),
          contentType: 'application/json',
          ttlSeconds: undefined,
          expiresAt: undefined,
          closed: false,
          body: new Uint8Array(),
          fork: undefined,
          topic: JSON.stringify({ topic, id, partition, numPartitions, config }),
        })
        if (outcome.kind !== 'created') {
          throw new TopicExistsError(
            `A stream already exists at ${partitionPath(topic, partition)}`,
          )
        }
      }
      return this.describeTopic(topic)
    })
  }

  describeTopic(topic: string): TopicDescription {
    this.checkName(topic)
    const rows = this.engine.storage
      .listStreams(`${topicsPrefix}${topic}/`)
      .filter((r) => r.topic !== null)
      .sort((a, b) => partitionOf(a.topic!) - partitionOf(b.topic!))
    const first = rows[0]
    if (!first) throw new UnknownTopicError(`Topic "${topic}" does not exist`)
    return {
      topic,
      // Topics made before ids existed get one from their first stream's creation.
      id: (JSON.parse(first.topic!) as { id?: string }).id ?? `created-${String(first.createdAt)}`,
      numPartitions: rows.length,
      config: topicConfigOf(first)!,
      partitions: rows.map((r) => ({
        partition: partitionOf(r.topic!),
        path: r.path,
        startOffset: r.startOffset,
        nextOffset: r.nextOffset,
        start: formatOffset(r.startOffset),
        next: formatOffset(r.nextOffset),
      })),
    }
  }

  listTopics(): string[] {
    const names = new Set<string>()
    for (const row of this.engine.storage.listStreams(topicsPrefix)) {
      if (row.topic !== null) names.add((JSON.parse(row.topic) as { topic: string }).topic)
    }
    return [...names]
  }

  deleteTopic(topic: string): void {
    const { partitions } = this.describeTopic(topic)
    this.engine.storage.transaction(() => {
      for (const p of partitions) this.engine.delete(p.path)
    })
  }

  /** Runs retention and compaction on every partition of the topic now. */
  cleanTopic(topic: string): PartitionCleanReport[] {
    const { partitions } = this.describeTopic(topic)
    const { storage } = this.engine
    return partitions.map((p) =>
      storage.transaction(() =>
        cleanPartition(storage, storage.getStream(p.path)!, this.engine.now()),
      ),
    )
  }

  /** Cleans every topic: what the background cleaner runs. */
  cleanAll(): void {
    for (const topic of this.listTopics()) this.cleanTopic(topic)
  }
}

const partitionOf = (topicJson: string): number =>
  (JSON.parse(topicJson) as { partition: number }).partition
