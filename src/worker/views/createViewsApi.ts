import { releaseProxy } from 'comlink'
import { DualityError, InvalidArgumentError } from '../../log/errors.ts'
import type { Log } from '../../log/Log.ts'
import type { ChangelogPreview } from '../../streams/ChangelogPreview.ts'
import { FrameBatcher, type FrameScheduler } from './FrameBatcher.ts'
import { idBounds, inBounds, textOrderId } from './viewKeys.ts'
import { ViewMirror } from './ViewMirror.ts'
import { pendingTopic } from './PendingOverlay.ts'
import { packSnapshot } from './viewWire.ts'
import type { AsOf } from '../../streams/asOf.ts'
import type {
  PendingValue,
  ViewAsOf,
  SubscribeOptions,
  ViewMessage,
  ViewPage,
  ViewQuery,
  WireEntry,
} from './viewWire.ts'

/** A view the worker serves: a name for the page, and the changelog topic it mirrors. */
export interface ViewSpec {
  name: string
  topic: string
  /**
   * The label of the store's snapshots (duality's storeSnapshotLabel): the view starts from the
   * stored snapshot instead of the changelog's start. `serve({ streams })` sets it for its stores.
   */
  snapshotLabel?: string
}

/**
 * The view of a KafkaStreams store: its changelog is `<applicationId>-<store>-changelog`
 * (KafkaStreams.changelogTopic). Named after the store unless `name` is given.
 */
export const changelogView = (applicationId: string, store: string, name = store): ViewSpec => ({
  name,
  topic: `${applicationId}-${store}-changelog`,
})

export interface ViewsApiOptions {
  /** Frame pacing of diffs (default: requestAnimationFrame, else the next task). */
  schedule?: FrameScheduler
  /**
   * Where batches' changelog records come from before they commit (this tab's KafkaStreams and
   * the other tabs', see ChangelogPreview): views show them at once instead of after the commit.
   * Subscribes a listener and returns its unsubscribe.
   */
  previews?: (listener: (preview: ChangelogPreview) => void) => () => void
  /**
   * A view as of an input offset or time, replayed by the topology that makes it (serveApp, from
   * KafkaStreams.asOf); null for a view no topology of this worker makes.
   */
  asOf?: (name: string, at: AsOf) => Promise<ViewAsOf> | null
}

const MAX_PAGE = 10_000

/**
 * The `views` namespace of the worker API: live subscriptions (a snapshot, then diffs paced per
 * frame) and paged queries. One mirror per view, made at the first use and shared by every page
 * subscription; a page shares one subscription between its stores of a view (duality/zustand).
 */
export function createViewsApi(log: Log, specs: ViewSpec[] = [], options: ViewsApiOptions = {}) {
  const topics = new Map(specs.map((s) => [s.name, s.topic]))
  const labels = new Map(specs.map((s) => [s.name, s.snapshotLabel]))
  const mirrors = new Map<string, ViewMirror>()
  /** Each view's pending overlay (PendingOverlay writes it where a topology runs). */
  const overlays = new Map<string, ViewMirror>()
  const overlayOf = (name: string): ViewMirror => {
    let overlay = overlays.get(name)
    if (!overlay) {
      overlay = new ViewMirror(log, pendingTopic(topics.get(name)!))
      overlays.set(name, overlay)
    }
    return overlay
  }
  const subscriptions = new Map<string, () => void>()
  /** Subscriptions that have not sent their first message yet. */
  const opening = new Set<Promise<unknown>>()
  const offPreviews = options.previews?.((preview) => {
    for (const mirror of mirrors.values()) mirror.offer(preview)
  })

  const known = (name: string): void => {
    if (topics.has(name)) return
    const names = [...topics.keys()].join(', ') || 'none'
    throw new InvalidArgumentError(
      `No view "${name}" in this worker (views: ${names}); declare it in serve({ views })`,
    )
  }

  const mirrorOf = async (name: string): Promise<ViewMirror> => {
    known(name)
    const topic = topics.get(name)!
    let mirror = mirrors.get(name)
    if (!mirror) {
      mirror = new ViewMirror(log, topic, labels.get(name))
      mirrors.set(name, mirror)
    }
    const opened = mirror
    await opened.loaded.catch((error: unknown) => {
      // A mirror that could not load is not kept: the next subscription tries afresh.
      if (mirrors.get(name) === opened) mirrors.delete(name)
      opened.close()
      throw error
    })
    return opened
  }

  /** subscribe() below: the snapshot, then the diffs. */
  const subscribe = async (
    name: string,
    onMessage: (message: ViewMessage) => void,
    subscribeOptions: SubscribeOptions,
  ): Promise<string> => {
    const mirror = await mirrorOf(name)
    const { lo, hi } = idBounds(subscribeOptions.range)
    const ranged = lo !== undefined || hi !== undefined
    const inRange = (keyText: string) => !ranged || inBounds(textOrderId(keyText), lo, hi)
    // In key order: the worker sorts (once per set of keys), so the page's main thread need not.
    const snapshot = (): ViewMessage => {
      // Booting from a stored snapshot with nothing folded since: its chunks as they are.
      const stored = ranged ? null : mirror.storedChunks()
      if (stored) {
        mirror.decodeSoon()
        return { type: 'snapshot', chunks: [...stored], offsets: [...mirror.offsets] }
      }
      const keys = mirror.sortedKeys()
      const entries: WireEntry[] = []
      for (let i = ranged ? mirror.seek(lo ?? '') : 0; i < keys.length; i++) {
        const key = keys[i]!
        if (ranged && !inRange(key)) break
        entries.push(mirror.entries.get(key)!)
      }
      return packSnapshot(entries, [...mirror.offsets])
    }
    const batcher = new FrameBatcher(onMessage, options.schedule)
    await mirror.idle()
    // Snapshot and listener in one go, between folds: the first diff starts where it ends.
    onMessage(snapshot())
    const off = mirror.subscribe((change) => {
      if (change.reset) {
        batcher.clear()
        onMessage(snapshot())
        return
      }
      const changes = ranged
        ? new Map([...change.changes].filter(([key]) => inRange(key)))
        : change.changes
      // Pushed even when nothing in range changed: the batcher carries the offsets over into
      // the next diff that has changes, so the page's offsets stay contiguous.
      batcher.push({ from: change.from, to: change.to, changes })
    })
    const overlay = overlayOf(name)
    const sendPending = () => {
      const value = overlay.entries.values().next().value?.[1] as PendingValue | undefined
      onMessage({
        type: 'pending',
        puts: (value?.puts ?? []).filter(([key]) => inRange(key)),
        deletes: (value?.deletes ?? []).filter(inRange),
      })
    }
    await overlay.loaded.catch(() => undefined)
    if (overlay.entries.size > 0) sendPending()
    const offPending = overlay.subscribe(sendPending)
    const offError = mirror.onError((error) => onMessage({ type: 'error', ...errorJSON(error) }))
    const id = crypto.randomUUID()
    subscriptions.set(id, () => {
      off()
      offPending()
      offError()
      batcher.close()
      ;(onMessage as Partial<Record<typeof releaseProxy, () => void>>)[releaseProxy]?.()
    })
    return id
  }

  return {
    /** The views this worker serves. */
    list: () => specs.map((s) => ({ ...s })),

    /**
     * Sends `onMessage` a snapshot of the view (or of `range`), then a diff per frame in which it
     * changed, in order, each tagged with the offsets it covers. Returns the subscription's id.
     */
    subscribe(
      name: string,
      onMessage: (message: ViewMessage) => void,
      subscribeOptions: SubscribeOptions = {},
    ): Promise<string> {
      const subscribed = subscribe(name, onMessage, subscribeOptions)
      const first = subscribed.catch(() => undefined)
      opening.add(first)
      void first.finally(() => opening.delete(first))
      return subscribed
    },

    /** Resolves once every subscription made so far has sent its snapshot (or failed). */
    async opened(): Promise<void> {
      await Promise.all([...opening])
    },

    unsubscribe(id: string): void {
      subscriptions.get(id)?.()
      subscriptions.delete(id)
    },

    /** One page of the view in key order, from the worker's mirror: nothing is kept in the page. */
    async query(name: string, query: ViewQuery = {}): Promise<ViewPage> {
      const mirror = await mirrorOf(name)
      const limit = query.limit ?? 100
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
        throw new InvalidArgumentError(`limit must be an integer in 1..${MAX_PAGE}, got ${limit}`)
      const { lo, hi } = idBounds(query)
      await mirror.idle()
      const keys = mirror.sortedKeys()
      let i = mirror.seek(lo ?? '')
      if (query.after !== undefined)
        i = Math.max(i, mirror.seek(textOrderId(query.after) + '\u0000'))
      const entries: WireEntry[] = []
      for (; i < keys.length && entries.length < limit; i++) {
        const key = keys[i]!
        if (!inBounds(textOrderId(key), lo, hi)) break
        entries.push(mirror.entries.get(key)!)
      }
      const more = i < keys.length && inBounds(textOrderId(keys[i]!), lo, hi)
      return { entries, next: more ? entries.at(-1)![0] : null, offsets: [...mirror.offsets] }
    },

    /**
     * The view as it was after the input up to `at` (offsets per input partition, or a
     * timestamp), replayed on scratch stores: nothing live changes, and nothing is followed.
     */
    async asOf(name: string, at: AsOf): Promise<ViewAsOf> {
      known(name)
      const replayed = options.asOf?.(name, at)
      if (!replayed)
        throw new InvalidArgumentError(
          `View "${name}" is not a store of this worker's topology (serve({ streams })): ` +
            `only a topology's views can be replayed as of an input offset or time`,
        )
      return replayed
    },

    /** Why a view stopped following its changelog, if it did (null while it follows). */
    status(name: string): { offsets: number[]; error: { code: string; message: string } | null } {
      const mirror = mirrors.get(name)
      const error = mirror?.error
      return {
        offsets: [...(mirror?.offsets ?? [])],
        error: error ? errorJSON(error) : null,
      }
    },

    close(): void {
      offPreviews?.()
      for (const off of subscriptions.values()) off()
      subscriptions.clear()
      for (const mirror of [...mirrors.values(), ...overlays.values()]) mirror.close()
      mirrors.clear()
      overlays.clear()
    },
  }
}

export type ViewsApi = ReturnType<typeof createViewsApi>

const errorJSON = (error: unknown): { code: string; message: string } =>
  error instanceof DualityError
    ? { code: error.code, message: error.message }
    : { code: 'UNKNOWN_SERVER_ERROR', message: String((error as Error)?.message ?? error) }
