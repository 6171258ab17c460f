import { UnknownTopicError } from './errors.ts'
import type { Outcome } from './GroupCommit.ts'
import type {
  BatchRow,
  GroupOffsetRow,
  LogStorage,
  PartitionRow,
  SegmentRow,
  TopicRow,
  WriteOptions,
} from './LogStorage.ts'
import { planAppend } from './planAppend.ts'
import type { RecordInput } from './record.ts'

/**
 * What the producer hands the log: one send (or sendBatch over several topics), its records already
 * serialised and partitioned. A request is all in or all out.
 */
export type AppendRequest = TopicAppend[]

export interface TopicAppend {
  topic: TopicRow
  parts: Map<number, { records: RecordInput[]; sizes: number[] }>
  /** Every value is JSON text (the topic's serde says so): rows may store them as one array. */
  json: boolean
}

export type AppendResult = {
  topic: string
  partition: number
  baseOffset: number
  logStartOffset: number
}[]

export interface AppendEvent {
  topic: string
  partition: number
  highWatermark: number
  /**
   * The tag its transaction was given (Log.transact's `tag`): a reader told of a transaction's
   * records before they committed recognises the commit by it, without reading them back.
   */
  tag?: string
}

interface PartitionWork {
  state: PartitionRow
  topic: TopicRow
  records: RecordInput[]
  sizes: number[]
  /** Which request contributed how many of `records`, in order. */
  owners: [request: number, count: number][]
  json: boolean
}

const partId = (topic: string, partition: number) => `${topic}\u0000${partition}`

export interface AppendOutcome {
  outcomes: Outcome<AppendResult>[]
  events: AppendEvent[]
  /** Topics found deleted or re-created: the caller drops them from its caches. */
  stale: string[]
  /** The partition heads as committed. */
  heads: PartitionRow[]
}

/** Thrown inside the transaction to abort it when a cached head turned out to be stale. */
class StaleHead extends Error {}

/**
 * One group commit: every request's records in one transaction. Partition heads are read inside the
 * transaction, so tabs sharing the database get one dense order with no leader. A request whose
 * topic was deleted (or re-created) meanwhile fails alone.
 *
 * With `heads` (what this tab committed last), the writes are issued right behind the head reads,
 * in the same round trip to the storage, and the transaction aborts if a head differs (another tab
 * or the cleaner wrote): one round trip instead of two in the common case, which doubled
 * one-at-a-time sends in Chromium. After an abort the append runs again reading first.
 */
export async function appendTransaction(
  storage: LogStorage,
  requests: AppendRequest[],
  options: {
    now: number
    maxRowBytes: number
    durability?: WriteOptions['durability']
    heads?: ReadonlyMap<string, PartitionRow>
    /** Group offsets to commit in the same transaction (exactly-once stream processing). */
    offsets?: GroupOffsetRow[]
  },
): Promise<AppendOutcome> {
  const keys: [string, number][] = []
  const seen = new Set<string>()
  for (const t of requests.flat()) {
    for (const p of t.parts.keys()) {
      const id = partId(t.topic.name, p)
      if (seen.has(id)) continue
      seen.add(id)
      keys.push([t.topic.name, p])
    }
  }
  const cached = options.heads ? keys.map((k) => options.heads!.get(partId(k[0], k[1]))) : []
  const optimistic = cached.length > 0 && cached.every((h) => h !== undefined)
  const write = (heads: (PartitionRow | undefined)[]) =>
    storage.write(
      options.offsets
        ? ['partitions', 'segments', 'batches', 'offsets']
        : ['partitions', 'segments', 'batches'],
      async (tx) => {
        const reading = Promise.all(keys.map((k) => tx.get('partitions', k)))
        // If a write below throws, the transaction aborts and this read rejects unawaited.
        reading.catch(() => undefined)
        if (heads.length === 0) heads = await reading
        const plan = planGroup(requests, keys, heads, options)
        for (const segment of plan.segments) tx.put('segments', segment)
        for (const batch of plan.batches) tx.put('batches', batch)
        for (const head of plan.heads) tx.put('partitions', head)
        for (const offset of options.offsets ?? []) tx.put('offsets', offset)
        if (optimistic) {
          const actual = await reading
          if (!actual.every((row, i) => sameHead(row, heads[i]))) throw new StaleHead()
        }
        return plan
      },
      options.durability === undefined ? {} : { durability: options.durability },
    )
  if (optimistic) {
    try {
      return await write(cached)
    } catch (error) {
      if (!(error instanceof StaleHead)) throw error
    }
  }
  return write([])
}

const sameHead = (a: PartitionRow | undefined, b: PartitionRow | undefined): boolean =>
  a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b)

/** Assigns offsets and packs rows for a group of requests, given the partitions' heads. Pure. */
function planGroup(
  requests: AppendRequest[],
  keys: [string, number][],
  heads: (PartitionRow | undefined)[],
  options: { now: number; maxRowBytes: number },
): AppendOutcome & { segments: SegmentRow[]; batches: BatchRow[] } {
  const states = new Map(keys.map((k, i) => [partId(k[0], k[1]), heads[i]]))
  const outcomes: Outcome<AppendResult>[] = []
  const events: AppendEvent[] = []
  const stale: string[] = []
  const work = new Map<string, PartitionWork>()
  requests.forEach((request, index) => {
    // A partition row carries its topic's id: a re-created topic is seen without reading topics.
    const gone = request.find((t) =>
      [...t.parts.keys()].some((p) => states.get(partId(t.topic.name, p))?.topicId !== t.topic.id),
    )
    if (gone) {
      stale.push(gone.topic.name)
      const error = new UnknownTopicError(
        `Topic "${gone.topic.name}" was deleted before this send committed`,
      )
      outcomes[index] = { ok: false, error }
      return
    }
    outcomes[index] = { ok: true, value: [] }
    for (const { topic, parts, json } of request) {
      for (const [p, part] of parts) {
        const id = partId(topic.name, p)
        let w = work.get(id)
        if (!w) {
          w = { state: states.get(id)!, topic, records: [], sizes: [], owners: [], json }
          work.set(id, w)
        }
        w.json &&= json
        w.owners.push([index, part.records.length])
        for (let i = 0; i < part.records.length; i++) {
          w.records.push(part.records[i]!)
          w.sizes.push(part.sizes[i]!)
        }
      }
    }
  })
  const segments: SegmentRow[] = []
  const batches: BatchRow[] = []
  const next: PartitionRow[] = []
  for (const w of work.values()) {
    const { state } = w
    const { now, maxRowBytes } = options
    const plan = planAppend(state, w.topic.config, w.records, w.sizes, now, maxRowBytes, w.json)
    segments.push(...plan.closed)
    batches.push(...plan.batches)
    next.push(plan.partition)
    // A follower's records carry their offsets; everyone else's start at the partition's end.
    let base = w.records[0]?.offset ?? state.nextOffset
    for (const [index, count] of w.owners) {
      const outcome = outcomes[index]!
      if (outcome.ok) {
        const { topic, partition, logStartOffset } = state
        outcome.value.push({ topic, partition, baseOffset: base, logStartOffset })
      }
      base += count
    }
    const highWatermark = plan.partition.nextOffset
    events.push({ topic: state.topic, partition: state.partition, highWatermark })
  }
  return { outcomes, events, stale, heads: next, segments, batches }
}
