import type { KV } from '@nats-io/kv'
import {
  cleanerKey,
  metaKey,
  type CleanerLease,
  topicKey,
  topicKeyPrefix,
  type Loaded,
  type LoadedTopic,
  type TopicEntry,
  type StreamMeta,
} from './jetStreamMeta.ts'
import { Conflict } from './retrying.ts'

/**
 * Stream metadata in a JetStream KV bucket, one entry per stream path. Every write is checked
 * against the revision it was read at, so servers that change the same stream concurrently do
 * not overwrite each other: the loser gets a Conflict and starts over from fresh metadata.
 */
export class JetStreamMetaStore {
  constructor(private readonly kv: KV) {}

  async load(path: string): Promise<Loaded | undefined> {
    const entry = await this.kv.get(metaKey(path))
    if (!entry || entry.operation !== 'PUT') return undefined
    return { meta: entry.json<StreamMeta>(), rev: entry.revision }
  }

  /** Writes `meta` if its entry is still at `rev`; returns the new revision. */
  async save(meta: StreamMeta, rev: number): Promise<number> {
    try {
      return await this.kv.update(metaKey(meta.path), JSON.stringify(meta), rev)
    } catch (error) {
      throw revisionConflict(error, 'stream metadata changed')
    }
  }

  /** Claims the path for a new stream; a Conflict when another server claimed it first. */
  async create(meta: StreamMeta): Promise<void> {
    try {
      await this.kv.create(metaKey(meta.path), JSON.stringify(meta))
    } catch (error) {
      throw revisionConflict(error, 'stream created concurrently')
    }
  }

  async delete({ meta, rev }: Loaded): Promise<void> {
    try {
      await this.kv.delete(metaKey(meta.path), { previousSeq: rev })
    } catch (error) {
      throw revisionConflict(error, 'stream metadata changed')
    }
  }

  async loadTopic(topic: string): Promise<LoadedTopic | undefined> {
    const entry = await this.kv.get(topicKey(topic))
    if (!entry || entry.operation !== 'PUT') return undefined
    return { entry: entry.json<TopicEntry>(), rev: entry.revision }
  }

  /** Claims a topic name; a Conflict when the name is held (by a topic or a creation under way). */
  async claimTopic(entry: TopicEntry): Promise<void> {
    try {
      await this.kv.create(topicKey(entry.topic), JSON.stringify(entry))
    } catch (error) {
      throw revisionConflict(error, 'topic claimed concurrently')
    }
  }

  async saveTopic(entry: TopicEntry, rev: number): Promise<number> {
    try {
      return await this.kv.update(topicKey(entry.topic), JSON.stringify(entry), rev)
    } catch (error) {
      throw revisionConflict(error, 'topic entry changed')
    }
  }

  async dropTopic({ entry, rev }: LoadedTopic): Promise<void> {
    try {
      await this.kv.delete(topicKey(entry.topic), { previousSeq: rev })
    } catch (error) {
      throw revisionConflict(error, 'topic entry changed')
    }
  }

  /** Every topic entry's name, ready or not. */
  async topicNames(): Promise<string[]> {
    const names: string[] = []
    for await (const key of await this.kv.keys(`${topicKeyPrefix}>`)) {
      names.push(Buffer.from(key.slice(topicKeyPrefix.length), 'base64url').toString())
    }
    return names
  }

  async loadLease(): Promise<{ lease: CleanerLease; rev: number } | undefined> {
    const entry = await this.kv.get(cleanerKey)
    if (!entry || entry.operation !== 'PUT') return undefined
    return { lease: entry.json<CleanerLease>(), rev: entry.revision }
  }

  /** Writes the lease if it is still at `rev` (0: if there is none); a Conflict otherwise. */
  async saveLease(lease: CleanerLease, rev: number): Promise<void> {
    try {
      if (rev === 0) await this.kv.create(cleanerKey, JSON.stringify(lease))
      else await this.kv.update(cleanerKey, JSON.stringify(lease), rev)
    } catch (error) {
      throw revisionConflict(error, 'cleaner lease taken')
    }
  }
}

/** JetStream's "wrong last sequence" answers: the entry is not at the revision the write expected. */
const wrongRevision = new Set([10071, 10164])

/**
 * A write that expected a revision and found another is a Conflict: the caller reloads and
 * starts over. Anything else (a timeout, a full store, a value over the payload limit) is not,
 * and must surface rather than be retried as if another server had won.
 */
function revisionConflict(error: unknown, message: string): unknown {
  const code = error instanceof Error && 'code' in error ? error.code : undefined
  return wrongRevision.has(code as number) ? new Conflict(message, { cause: error }) : error
}
