import { InvalidArgumentError } from '../log/errors.ts'

/**
 * What `Stores.persistentVersionedKeyValueStore` returns (Kafka's VersionedBytesStoreSupplier):
 * a store name and how far back its history reaches. Materialize a table in it with
 * `{ materialized: Materialized.as(supplier) }`.
 */
export interface VersionedStoreSupplier {
  readonly name: string
  readonly historyRetentionMs: number
  readonly versioned: true
}

/** Kafka Streams' Stores factory, for the store kinds duality has besides the default one. */
export const Stores = {
  /**
   * A versioned key-value store (KIP-889) keeping each key's history for `historyRetentionMs`
   * of stream time; "persistent" as every duality store is: its changelog is the local copy.
   */
  persistentVersionedKeyValueStore(
    name: string,
    historyRetentionMs: number,
  ): VersionedStoreSupplier {
    if (typeof name !== 'string' || name.length === 0)
      throw new InvalidArgumentError('A versioned store needs a name')
    if (!Number.isSafeInteger(historyRetentionMs) || historyRetentionMs < 0)
      throw new InvalidArgumentError(
        `historyRetentionMs must be an integer >= 0, got ${String(historyRetentionMs)}`,
      )
    return { name, historyRetentionMs, versioned: true }
  },
}

export const isVersionedSupplier = (x: unknown): x is VersionedStoreSupplier =>
  typeof x === 'object' && x !== null && (x as VersionedStoreSupplier).versioned === true
