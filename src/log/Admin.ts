import {
  InvalidArgumentError,
  InvalidPartitionsError,
  TopicExistsError,
  UnknownTopicError,
} from './errors.ts'
import { type Log, type PartitionOffsets, newId } from './Log.ts'
import { topicRange, type TopicRow } from './LogStorage.ts'
import { emptySegment } from './planAppend.ts'
import { parseTopicConfig, type ConfigEntry, type TopicConfig } from './TopicConfig.ts'
import { checkOffset, checkPartition, checkTopicName } from './validate.ts'

export interface TopicSpec {
  topic: string
  /** Default 1. */
  numPartitions?: number
  configEntries?: ConfigEntry[]
}

export interface CreateTopicsOptions {
  topics: TopicSpec[]
  /** Check everything, create nothing. */
  validateOnly?: boolean
  /** Resolve `false` for topics that exist instead of throwing TopicExistsError. */
  ifNotExists?: boolean
}

export interface TopicMetadata {
  name: string
  partitions: { partitionId: number; leader: 0; replicas: [0]; isr: [0]; partitionErrorCode: 0 }[]
  config: TopicConfig
}

export interface GroupOffset {
  partition: number
  /** The next offset the group will consume; -1 when the group has committed nothing. */
  offset: number
  metadata: string | null
}

export const MAX_PARTITIONS = 10_000

/** KafkaJS's admin client over the local log. */
export class Admin {
  constructor(private readonly log: Log) {}

  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}

  /**
   * Creates topics, all or none. Unlike KafkaJS, an existing topic is a TopicExistsError (pass
   * `ifNotExists: true` for KafkaJS's "resolve false" behaviour).
   */
  async createTopics({
    topics,
    validateOnly = false,
    ifNotExists = false,
  }: CreateTopicsOptions): Promise<boolean> {
    if (!Array.isArray(topics) || topics.length === 0) {
      throw new InvalidArgumentError('createTopics needs { topics: [{ topic, numPartitions }] }')
    }
    const now = this.log.clock()
    const rows: TopicRow[] = topics.map((spec) => {
      const name = checkTopicName(spec?.topic)
      const numPartitions = spec.numPartitions ?? 1
      if (!Number.isInteger(numPartitions) || numPartitions < 1 || numPartitions > MAX_PARTITIONS) {
        throw new InvalidPartitionsError(
          `Topic "${name}": numPartitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${String(numPartitions)}`,
        )
      }
      return {
        name,
        id: newId(),
        numPartitions,
        config: parseTopicConfig(name, spec.configEntries),
        createdAt: now,
      }
    })
    const names = rows.map((r) => r.name)
    const twice = names.find((n, i) => names.indexOf(n) !== i)
    if (twice)
      throw new InvalidArgumentError(`Topic "${twice}" appears twice in one createTopics call`)
    const created = await this.log.storage.write(['topics', 'partitions'], async (tx) => {
      const existing = await Promise.all(rows.map((r) => tx.get('topics', r.name)))
      const clash = rows.find((_, i) => existing[i])
      if (clash && !ifNotExists) {
        throw new TopicExistsError(
          `Topic "${clash.name}" already exists; no topic of this call was created`,
        )
      }
      const fresh = rows.filter((_, i) => !existing[i])
      if (validateOnly) return fresh
      for (const row of fresh) {
        tx.put('topics', row)
        for (let p = 0; p < row.numPartitions; p++) {
          tx.put('partitions', {
            topic: row.name,
            partition: p,
            topicId: row.id,
            logStartOffset: 0,
            nextOffset: 0,
            bytes: 0,
            active: emptySegment(row.name, p, 0, now),
            cleanedOffset: 0,
          })
        }
      }
      return fresh
    })
    for (const row of created) this.log.forgetTopic(row.name)
    return created.length === rows.length
  }

  /** Deletes topics with all their records, committed group offsets and snapshots, all or none. */
  async deleteTopics({ topics }: { topics: string[]; timeout?: number }): Promise<void> {
    if (!Array.isArray(topics))
      throw new InvalidArgumentError('deleteTopics needs { topics: [names] }')
    topics.forEach(checkTopicName)
    await this.log.storage.write(
      ['topics', 'partitions', 'segments', 'batches', 'offsets', 'snapshots'],
      async (tx) => {
        const [existing, offsets] = await Promise.all([
          Promise.all(topics.map((t) => tx.get('topics', t))),
          tx.getAll('offsets'),
        ])
        const missing = topics.find((_, i) => !existing[i])
        if (missing)
          throw new UnknownTopicError(`Topic "${missing}" does not exist; nothing was deleted`)
        const doomed = new Set(topics)
        for (const topic of topics) {
          tx.delete('topics', topic)
          tx.deleteRange('partitions', topicRange(topic))
          tx.deleteRange('segments', topicRange(topic))
          tx.deleteRange('batches', topicRange(topic))
          tx.deleteRange('snapshots', topicRange(topic))
        }
        for (const o of offsets)
          if (doomed.has(o.topic)) tx.delete('offsets', [o.groupId, o.topic, o.partition])
      },
    )
    for (const topic of topics) this.log.forgetTopic(topic)
  }

  async listTopics(): Promise<string[]> {
    const rows = await this.log.storage.read(['topics'], (tx) => tx.getAll('topics'))
    return rows.map((r) => r.name)
  }

  async fetchTopicMetadata({ topics }: { topics?: string[] } = {}): Promise<{
    topics: TopicMetadata[]
  }> {
    const names = topics ?? (await this.listTopics())
    const rows = await Promise.all(names.map((n) => this.log.topic(n, true)))
    return {
      topics: rows.map((r) => ({
        name: r.name,
        partitions: Array.from({ length: r.numPartitions }, (_, partitionId) => ({
          partitionId,
          leader: 0 as const,
          replicas: [0] as [0],
          isr: [0] as [0],
          partitionErrorCode: 0 as const,
        })),
        config: r.config,
      })),
    }
  }

  async fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]> {
    return this.log.offsets(topic)
  }

  /** Per partition, the earliest offset whose timestamp is >= `timestamp` (the high watermark if none). */
  async fetchTopicOffsetsByTimestamp(
    topic: string,
    timestamp: number,
  ): Promise<{ partition: number; offset: number }[]> {
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) {
      throw new InvalidArgumentError(
        `timestamp must be ms since the epoch, got ${String(timestamp)}`,
      )
    }
    const { numPartitions } = await this.log.topic(topic)
    return Promise.all(
      Array.from({ length: numPartitions }, async (_, partition) => ({
        partition,
        offset: await this.log.offsetForTimestamp(topic, partition, timestamp),
      })),
    )
  }

  /** Committed offsets of a group, per topic and partition (-1 where nothing was committed). */
  async fetchOffsets({
    groupId,
    topics,
  }: {
    groupId: string
    topics?: string[]
  }): Promise<{ topic: string; partitions: GroupOffset[] }[]> {
    checkGroupId(groupId)
    const rows = await this.log.storage.read(['offsets'], (tx) =>
      tx.getAll('offsets', { lower: [groupId], upper: [groupId, []] }),
    )
    const names = topics ?? [...new Set(rows.map((r) => r.topic))]
    return Promise.all(
      names.map(async (topic) => {
        const { numPartitions } = await this.log.topic(topic)
        return {
          topic,
          partitions: Array.from({ length: numPartitions }, (_, partition) => {
            const row = rows.find((r) => r.topic === topic && r.partition === partition)
            return { partition, offset: row?.offset ?? -1, metadata: row?.metadata ?? null }
          }),
        }
      }),
    )
  }

  /** Sets a group's committed offsets (KafkaJS's setOffsets), all or none. */
  async setOffsets({
    groupId,
    topic,
    partitions,
  }: {
    groupId: string
    topic: string
    partitions: { partition: number; offset: number; metadata?: string | null }[]
  }): Promise<void> {
    await commitGroupOffsets(
      this.log,
      groupId,
      partitions.map((p) => ({ topic, ...p })),
    )
  }
}

function checkGroupId(groupId: unknown): asserts groupId is string {
  if (typeof groupId !== 'string' || groupId.length === 0) {
    throw new InvalidArgumentError(
      `groupId must be a non-empty string, got ${JSON.stringify(groupId)}`,
    )
  }
}

export interface OffsetCommit {
  topic: string
  partition: number
  offset: number
  metadata?: string | null
}

/** Commits group offsets in one transaction; every topic and partition must exist. */
export async function commitGroupOffsets(
  log: Log,
  groupId: string,
  commits: OffsetCommit[],
): Promise<void> {
  checkGroupId(groupId)
  for (const c of commits) {
    const { numPartitions } = await log.topic(c.topic)
    checkPartition(c.partition, numPartitions, c.topic)
    checkOffset(c.offset)
  }
  const now = log.clock()
  await log.storage.write(['topics', 'offsets'], async (tx) => {
    const names = [...new Set(commits.map((c) => c.topic))]
    const rows = await Promise.all(names.map((n) => tx.get('topics', n)))
    const missing = names.find((_, i) => !rows[i])
    if (missing)
      throw new UnknownTopicError(`Topic "${missing}" does not exist; no offset was committed`)
    for (const c of commits) {
      tx.put('offsets', {
        groupId,
        topic: c.topic,
        partition: c.partition,
        offset: Number(c.offset),
        metadata: c.metadata ?? null,
        committedAt: now,
      })
    }
  })
}

export function fetchGroupOffset(
  log: Log,
  groupId: string,
  topic: string,
  partition: number,
): Promise<number | undefined> {
  return log.storage
    .read(['offsets'], (tx) => tx.get('offsets', [groupId, topic, partition]))
    .then((row) => row?.offset)
}
