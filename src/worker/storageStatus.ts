/**
 * What the browser says of this origin's storage: whether it is persistent (not evicted under
 * storage pressure: `navigator.storage.persisted()`), what it uses of its quota
 * (`navigator.storage.estimate()`), and the last write the quota refused. `null` where the
 * platform does not say (no StorageManager: Node, an insecure origin).
 */
export interface StorageStatus {
  persisted: boolean | null
  /** Bytes this origin uses (all of its storage, not only duality's database). */
  usage: number | null
  quota: number | null
  /** The last send refused for want of space (QuotaExceededError), until a later send succeeds. */
  quotaExceeded: { message: string; at: number } | null
}

/** The part of StorageManager the worker and page use (Window has persist(); workers do not). */
export interface StorageManagerLike {
  persisted?(): Promise<boolean>
  persist?(): Promise<boolean>
  estimate?(): Promise<{ usage?: number; quota?: number }>
}

const platformStorage = (): StorageManagerLike | undefined =>
  (globalThis as { navigator?: { storage?: StorageManagerLike } }).navigator?.storage

/**
 * Reads the status, at most once per `maxAgeMs` (a status goes with every sync status, which may
 * come many times a second; `estimate()` is a round trip to the browser process).
 */
export function storageStatusReader(
  manager: () => StorageManagerLike | undefined = platformStorage,
  maxAgeMs = 1000,
) {
  let cached: { at: number; value: Promise<Omit<StorageStatus, 'quotaExceeded'>> } | null = null
  let quotaExceeded: StorageStatus['quotaExceeded'] = null
  const read = async (): Promise<Omit<StorageStatus, 'quotaExceeded'>> => {
    const m = manager()
    const [persisted, estimate] = await Promise.all([
      m?.persisted ? m.persisted().catch(() => null) : null,
      m?.estimate ? m.estimate().catch(() => null) : null,
    ])
    return { persisted, usage: estimate?.usage ?? null, quota: estimate?.quota ?? null }
  }
  return {
    async status(): Promise<StorageStatus> {
      const now = Date.now()
      if (!cached || now - cached.at > maxAgeMs) cached = { at: now, value: read() }
      return { ...(await cached.value), quotaExceeded }
    },
    /** A send's outcome: a refusal for want of space is shown until a send succeeds. */
    sent(error: { code: string; message: string } | null): boolean {
      const before = quotaExceeded
      if (error?.code === 'QUOTA_EXCEEDED')
        quotaExceeded = { message: error.message, at: Date.now() }
      else if (error === null) quotaExceeded = null
      if (before !== quotaExceeded) cached = null
      return before !== quotaExceeded
    },
    /** Forgets the cached figures (after persist() was granted, say). */
    invalidate(): void {
      cached = null
    },
  }
}

/**
 * Asks the browser to keep this origin's storage (`navigator.storage.persist()`, which only a
 * page can call): what `serve({ storage: { persist: true } })` has the page's `connect()` do.
 * Chromium answers at once from its heuristics (an installed app, a bookmark, notifications);
 * Firefox may prompt. Null where there is no such API.
 */
export async function requestPersistence(
  manager: StorageManagerLike | undefined = platformStorage(),
): Promise<boolean | null> {
  if (!manager?.persist) return null
  try {
    return await manager.persist()
  } catch {
    return null
  }
}
