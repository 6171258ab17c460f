import type { Log } from '../log/Log.ts'
import {
  loadSnapshot,
  saveSnapshot,
  type SnapshotEntry,
  type SnapshotRejection,
} from '../log/TopicSnapshot.ts'
import { KeyValueStore } from './KeyValueStore.ts'
import type { StateStore, Topology } from './Topology.ts'
import { VersionedKeyValueStore } from './VersionedKeyValueStore.ts'
import { keyOfText } from './keyOfText.ts'

export interface SnapshotConfig {
  /**
   * Fewest changelog records since the last snapshot worth a new one (default 1,000). An idle
   * instance snapshots a store whose tail has this many; a busy one (catching up, or under steady
   * load) once the tail is four times the store, so a boot reads at most about five times the
   * state while a snapshot costs at most a quarter of what the changelog writes.
   */
  minRecords?: number
}

const DEFAULT_MIN_RECORDS = 1_000
/**
 * How much longer than the store its tail grows before a busy instance snapshots it. At 1 (a
 * snapshot per store's worth of changelog) the replay bench's count-by-key lost 17% at batch
 * 10,000 and 43% at batch 1,000 (each batch there rewrites most of the store): the image is
 * written as often as the changelog itself.
 */
const BUSY_TAIL_FACTOR = 4

/**
 * The label a store's snapshots carry, which every reader must expect: the snapshot format, the
 * store and the topology's shape (its stores and input topics). A topology with other stores or
 * inputs discards the old images and rebuilds from the changelogs; a change inside a processor
 * (an aggregator's code) does not show in the shape, and a changelog holds that code's results
 * anyway: reprocessing the input takes a new applicationId, as in Kafka.
 *
 * A versioned store's image holds its whole history (every version, deletes included, each
 * key's oldest first), not one entry per key: it is labelled `duality.versioned.1` with its
 * history retention, so it is never read as a plain store's image, nor a plain one as its own,
 * nor one of another retention. Views mirror a versioned store's changelog without images (see
 * serveApp): a view holds latest values, which this image is not.
 */
export function storeSnapshotLabel(topology: Topology, store: string): string {
  const shape = {
    stores: [...topology.stores.keys()].sort(),
    inputs: topology.inputTopics().sort(),
  }
  const s = topology.stores.get(store)
  if (s instanceof VersionedKeyValueStore)
    return `duality.versioned.1 ${store} ${s.historyRetentionMs} ${JSON.stringify(shape)}`
  return `duality.kv.1 ${store} ${JSON.stringify(shape)}`
}

/**
 * A store's entries as the changelog holds them: its key's JSON text, value and timestamp; a
 * key-value store's in key order (a view starts from them without sorting), a versioned store's
 * by key, each key's versions oldest first.
 */
export function storeEntries(store: StateStore): SnapshotEntry[] {
  const entries: SnapshotEntry[] = []
  const all =
    store instanceof KeyValueStore ? store.committedEntriesInKeyOrder() : store.committedEntries()
  for (const { key, entry } of all)
    entries.push([JSON.stringify(key), entry.value, entry.timestamp])
  return entries
}

export const rejectionWarning = (topic: string, why: SnapshotRejection): string =>
  `duality: the snapshot of "${topic}" is ${why}; rebuilding from the changelog`

/**
 * The stores' snapshots of one KafkaStreams instance (Kafka Streams' checkpointed state
 * directory): a store restores from its snapshot and the changelog records after it, and the
 * instance writes a new snapshot when the tail has grown (at a commit, or when it goes idle).
 * One write at a time, in the background; a failed write only costs the next boot time.
 */
export class StoreSnapshots {
  /** Changelog records since each store's last snapshot. */
  private readonly since = new Map<string, number>()
  private writing: Promise<void> | null = null
  private readonly minRecords: number

  constructor(
    private readonly log: Log,
    private readonly topology: Topology,
    private readonly changelogTopic: (store: string) => string,
    config: SnapshotConfig = {},
  ) {
    this.minRecords = config.minRecords ?? DEFAULT_MIN_RECORDS
  }

  /**
   * Fills `store` from its snapshot, if a valid one is stored, and returns the changelog offset
   * to fold from; null when there is none (fold the whole changelog).
   */
  async restore(name: string, store: StateStore): Promise<number | null> {
    const topic = this.changelogTopic(name)
    const { snapshot, rejected } = await loadSnapshot(
      this.log,
      topic,
      storeSnapshotLabel(this.topology, name),
    )
    if (rejected) console.warn(rejectionWarning(topic, rejected))
    if (!snapshot || snapshot.offsets.length !== 1) return null
    // A versioned store's versions go back in time order: each is then no older than the
    // store's stream time allows (the image kept them because they were within the history).
    const entries =
      store instanceof VersionedKeyValueStore
        ? [...snapshot.entries].sort((a, b) => a[2] - b[2])
        : snapshot.entries
    for (const [key, value, timestamp] of entries) store.restore(keyOfText(key), value, timestamp)
    this.since.set(name, 0)
    return snapshot.offsets[0]!
  }

  /** After a restore that read `records` changelog records past the snapshot (or all of them). */
  restored(name: string, records: number): void {
    this.since.set(name, (this.since.get(name) ?? 0) + records)
  }

  /**
   * After a commit that wrote `records` to the store's changelog, which now ends at `end`:
   * snapshots the store when its tail has grown to `BUSY_TAIL_FACTOR` times the store.
   */
  committed(name: string, store: StateStore, records: number, end: number): void {
    const since = (this.since.get(name) ?? 0) + records
    this.since.set(name, since)
    if (since >= Math.max(this.minRecords, BUSY_TAIL_FACTOR * store.approximateNumEntries()))
      this.write(name, store, end)
  }

  /** The instance has nothing to process: a store with enough new records is snapshot now. */
  idle(ends: ReadonlyMap<string, number>): void {
    for (const [name, since] of this.since) {
      const store = this.topology.stores.get(name)
      const end = ends.get(this.changelogTopic(name))
      if (store && end !== undefined && since >= this.minRecords) this.write(name, store, end)
    }
  }

  /** Resolves once no snapshot is being written (tests, close). */
  async settled(): Promise<void> {
    while (this.writing) await this.writing
  }

  private write(name: string, store: StateStore, end: number): void {
    if (this.writing) return
    // Taken now, synchronously: the store is exactly its changelog up to `end` here.
    const entries = storeEntries(store)
    const topic = this.changelogTopic(name)
    this.since.set(name, 0)
    this.writing = saveSnapshot(this.log, {
      topic,
      offsets: [end],
      label: storeSnapshotLabel(this.topology, name),
      entries,
    })
      .catch((error: unknown) => {
        // The next boot folds a longer tail; nothing is wrong.
        console.warn(`duality: the snapshot of "${topic}" was not written`, error)
      })
      .finally(() => {
        this.writing = null
      })
  }
}
