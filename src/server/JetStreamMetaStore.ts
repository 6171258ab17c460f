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
} from './jetStreamMeta.ts'
import type { StreamMeta } from './jetStreamMeta.ts'
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
      throw new Conflict('stream metadata changed', { cause: error })
    }
  }

  /** Claims the path for a new stream; a Conflict when another server claimed it first. */
  async create(meta: StreamMeta): Promise<void> {
    try {
      await this.kv.create(metaKey(meta.path), JSON.stringify(meta))
    } catch (error) {
      throw new Conflict('stream created concurrently', { cause: error })
    }
  }

  async delete({ meta, rev }: Loaded): Promise<void> {
    try {
      await this.kv.delete(metaKey(meta.path), { previousSeq: rev })
    } catch (error) {
      throw new Conflict('stream metadata changed', { cause: error })
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
      throw new Conflict('topic claimed concurrently', { cause: error })
    }
  }

  async saveTopic(entry: TopicEntry, rev: number): Promise<number> {
    try {
      return await this.kv.update(topicKey(entry.topic), JSON.stringify(entry), rev)
    } catch (error) {
      throw new Conflict('topic entry changed', { cause: error })
    }
  }

  async dropTopic({ entry, rev }: LoadedTopic): Promise<void> {
    try {
      await this.kv.delete(topicKey(entry.topic), { previousSeq: rev })
    } catch (error) {
      throw new Conflict('topic entry changed', { cause: error })
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
      throw new Conflict('cleaner lease taken', { cause: error })
    }
  }
}
