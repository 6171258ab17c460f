import type { KV } from '@nats-io/kv'
import { metaKey, type Loaded, type StreamMeta } from './jetStreamMeta.ts'
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
}
