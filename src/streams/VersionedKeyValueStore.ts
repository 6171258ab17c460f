import { InvalidArgumentError } from '../log/errors.ts'
import { keyId, type KeyValuePair, type ValueAndTimestamp } from './KeyValueStore.ts'

/**
 * One version of a key (Kafka's VersionedRecord): the value it held from `timestamp` on, until
 * `validTo` (exclusive) when a later version replaced it; no `validTo` for the latest.
 */
export interface VersionedRecord<V> {
  value: V
  timestamp: number
  validTo?: number
}

/** Kafka's VersionedKeyValueStore.PUT_RETURN_CODE_VALID_TO_UNDEFINED: the put is the latest. */
export const PUT_RETURN_CODE_VALID_TO_UNDEFINED = -1
/** Kafka's VersionedKeyValueStore.PUT_RETURN_CODE_NOT_PUT: older than the history retention. */
export const PUT_RETURN_CODE_NOT_PUT = Number.MIN_SAFE_INTEGER

/** A version as kept: a null value is a delete (a tombstone in the key's history). */
interface Version {
  value: unknown
  timestamp: number
}

/** A change for the changelog: each version written, in order (null entry value: a delete). */
export interface VersionedChange<K> {
  key: K
  entry: ValueAndTimestamp<unknown> | null
  /** The version's time, which a delete must carry too: the changelog record's timestamp. */
  timestamp: number
}

/**
 * A key-value store that keeps each key's history (Kafka's VersionedKeyValueStore, KIP-889): a
 * put adds a version at its timestamp, wherever that falls in the key's history, and
 * `get(key, asOfTimestamp)` answers the version that was valid then. History is kept for
 * `historyRetentionMs` of the store's observed stream time (the largest timestamp put): a read
 * asking further back gets null, and a put further back is not accepted, as in Kafka, where the
 * history retention is also the store's grace period. The latest version of a key is kept
 * however old it is.
 *
 * The changelog gets every version written, with its timestamp as the record's timestamp (a
 * delete is a tombstone record carrying its time). After a write that is not the key's latest
 * (out of order), the latest version is written again behind it: the last record of each key in
 * the changelog is then always its latest version, which is what compaction keeps and what a
 * reader that folds the changelog key by key (a view) shows. Restoring replays the records with
 * their timestamps; a replayed latest version replaces itself, so the history comes back as it
 * was. The changelog topic keeps versions for the history retention plus a day
 * (min.compaction.lag.ms), as Kafka configures versioned changelogs.
 */
export class VersionedKeyValueStore<K = unknown, V = unknown> {
  /** Each key's versions, oldest first. */
  private readonly history = new Map<string, { key: K; versions: Version[] }>()
  private observedStreamTime = -Infinity
  private log: VersionedChange<K>[] = []
  private outOfOrder = new Map<string, K>()
  /** While speculating: the state to put back in `endOverlay`, and the keys written since. */
  private saved: {
    history: [string, { key: K; versions: Version[] }][]
    observedStreamTime: number
    log: VersionedChange<K>[]
    outOfOrder: Map<string, K>
    touched: Map<string, K>
  } | null = null

  constructor(
    readonly name: string,
    readonly historyRetentionMs: number,
  ) {
    if (!Number.isSafeInteger(historyRetentionMs) || historyRetentionMs < 0)
      throw new InvalidArgumentError(
        `A versioned store's history retention must be an integer >= 0 (ms), got ${String(historyRetentionMs)}`,
      )
  }

  /**
   * Adds a version of `key` at `timestamp` (null: a delete). Returns when it stops being valid
   * (the next version's timestamp), PUT_RETURN_CODE_VALID_TO_UNDEFINED when it is the latest, or
   * PUT_RETURN_CODE_NOT_PUT when it is older than the history retention and was dropped.
   */
  put(key: K, value: V | null, timestamp: number): number {
    if (!Number.isFinite(timestamp))
      throw new InvalidArgumentError(`A version needs a timestamp, got ${String(timestamp)}`)
    if (timestamp < this.observedStreamTime - this.historyRetentionMs)
      return PUT_RETURN_CODE_NOT_PUT
    this.observedStreamTime = Math.max(this.observedStreamTime, timestamp)
    const id = keyId(key)
    this.saved?.touched.set(id, key)
    let slot = this.history.get(id)
    if (!slot) this.history.set(id, (slot = { key, versions: [] }))
    const versions = slot.versions
    let i = versions.length
    while (i > 0 && versions[i - 1]!.timestamp > timestamp) i--
    // A version at the same timestamp as an existing one replaces it (Kafka's rule).
    if (i > 0 && versions[i - 1]!.timestamp === timestamp) versions[i - 1] = { value, timestamp }
    else versions.splice(i, 0, { value, timestamp })
    const at = i > 0 && versions[i - 1]!.timestamp === timestamp ? i - 1 : i
    const next = versions[at + 1]
    this.log.push({ key, entry: value === null ? null : { value, timestamp }, timestamp })
    if (next) this.outOfOrder.set(id, key)
    this.expire(id)
    return next ? next.timestamp : PUT_RETURN_CODE_VALID_TO_UNDEFINED
  }

  /**
   * Deletes `key` as of `timestamp` (a tombstone version) and returns the version that was valid
   * at that time, or null (Kafka's VersionedKeyValueStore.delete).
   */
  delete(key: K, timestamp: number): VersionedRecord<V> | null {
    const before = this.get(key, timestamp)
    this.put(key, null, timestamp)
    return before
  }

  /**
   * The latest version of `key`, or with `asOfTimestamp` the version valid at that time; null
   * when there is none, it is a delete, or `asOfTimestamp` lies beyond the history retention.
   */
  get(key: K, asOfTimestamp?: number): VersionedRecord<V> | null {
    const versions = this.history.get(keyId(key))?.versions
    if (!versions || versions.length === 0) return null
    if (asOfTimestamp === undefined) {
      const latest = versions[versions.length - 1]!
      return latest.value === null
        ? null
        : { value: latest.value as V, timestamp: latest.timestamp }
    }
    if (asOfTimestamp < this.observedStreamTime - this.historyRetentionMs) return null
    let i = versions.length - 1
    while (i >= 0 && versions[i]!.timestamp > asOfTimestamp) i--
    if (i < 0 || versions[i]!.value === null) return null
    const found = versions[i]!
    const next = versions[i + 1]
    return {
      value: found.value as V,
      timestamp: found.timestamp,
      ...(next ? { validTo: next.timestamp } : {}),
    }
  }

  /** The latest value of `key` (what a plain table would hold), or null. */
  latest(key: K): V | null {
    return this.get(key)?.value ?? null
  }

  /** Every key's latest value, in key order (by the keys' JSON text); deleted keys left out. */
  all(): KeyValuePair<K, V>[] {
    return [...this.history]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([, { key, versions }]) => {
        const latest = versions[versions.length - 1]
        return latest && latest.value !== null ? [{ key, value: latest.value as V }] : []
      })
  }

  /** Latest values of the keys in [from, to], in key order (by the keys' JSON text). */
  range(from: K, to: K): KeyValuePair<K, V>[] {
    const lo = keyId(from)
    const hi = keyId(to)
    return this.all().filter(({ key }) => {
      const id = keyId(key)
      return id >= lo && id <= hi
    })
  }

  /** The store's observed stream time: the largest timestamp put (restored with the history). */
  get streamTime(): number {
    return this.observedStreamTime
  }

  /** Versions kept, over all keys (tombstones included): the size a snapshot has. */
  approximateNumEntries(): number {
    let n = 0
    for (const { versions } of this.history.values()) n += versions.length
    return n
  }

  /**
   * Every version kept, each key's oldest first (a snapshot holds the whole history: restoring
   * it puts them back in that order). A delete has a null value.
   */
  *committedEntries(): IterableIterator<{ key: K; entry: ValueAndTimestamp<unknown> }> {
    for (const { key, versions } of this.history.values())
      for (const v of versions) yield { key, entry: { value: v.value, timestamp: v.timestamp } }
  }

  /** A version read back while restoring: as `put`, and like any put its change is discarded after. */
  restore(key: K, value: V | null, timestamp: number): void {
    this.put(key, value, timestamp)
  }

  /** Forgets the versions written since the last flush (after a restore: already in the changelog). */
  discardChanges(): void {
    this.log = []
    this.outOfOrder = new Map()
  }

  clear(): void {
    this.history.clear()
    this.observedStreamTime = -Infinity
    this.log = []
    this.outOfOrder = new Map()
  }

  /**
   * The versions written since the last call, in order, each out-of-order key's latest version
   * again behind them (see the class comment).
   */
  flushChanges(): VersionedChange<K>[] {
    const out = this.log
    for (const [id, key] of this.outOfOrder) {
      const latest = this.history.get(id)?.versions.at(-1)
      if (!latest) continue
      out.push({
        key,
        entry: latest.value === null ? null : { value: latest.value, timestamp: latest.timestamp },
        timestamp: latest.timestamp,
      })
    }
    this.log = []
    this.outOfOrder = new Map()
    return out
  }

  /** Starts a speculative run (Topology.speculate): `endOverlay` puts everything back. */
  beginOverlay(): void {
    this.saved = {
      history: [...this.history].map(([id, { key, versions }]) => [
        id,
        { key, versions: [...versions] },
      ]),
      observedStreamTime: this.observedStreamTime,
      log: this.log,
      outOfOrder: this.outOfOrder,
      touched: new Map(),
    }
    this.log = []
    this.outOfOrder = new Map()
  }

  /** Ends a speculative run: the touched keys' latest values then, and the store as it was. */
  endOverlay(): { key: K; entry: ValueAndTimestamp<V> | null }[] {
    const saved = this.saved
    if (!saved) return []
    const changes = [...saved.touched].map(([id, key]) => {
      const latest = this.history.get(id)?.versions.at(-1)
      return {
        key,
        entry:
          latest && latest.value !== null
            ? { value: latest.value as V, timestamp: latest.timestamp }
            : null,
      }
    })
    this.history.clear()
    for (const [id, slot] of saved.history) this.history.set(id, slot)
    this.observedStreamTime = saved.observedStreamTime
    this.log = saved.log
    this.outOfOrder = saved.outOfOrder
    this.saved = null
    return changes
  }

  /**
   * Forgets the key's versions that no read within the history retention can reach: those
   * replaced before `streamTime - historyRetention`. The latest stays, unless it is a delete
   * that old (then the key is gone).
   */
  private expire(id: string): void {
    const slot = this.history.get(id)!
    const horizon = this.observedStreamTime - this.historyRetentionMs
    const versions = slot.versions
    let drop = 0
    while (drop < versions.length - 1 && versions[drop + 1]!.timestamp <= horizon) drop++
    if (drop > 0) versions.splice(0, drop)
    const only = versions[0]
    if (versions.length === 1 && only!.value === null && only!.timestamp < horizon)
      this.history.delete(id)
  }
}
