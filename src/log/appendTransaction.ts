import { ConcurrencyError, InvalidArgumentError, UnknownTopicError } from './errors.ts'
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
import { KEY_LOOKUP_OFFSETS, lastKeyOffsets } from './lastKeyOffsets.ts'
import { planAppend } from './planAppend.ts'
import { keyIdentity, type RecordInput } from './record.ts'

/**
 * What the producer hands the log: one send (or sendBatch over several topics), its records already
 * serialised and partitioned. A request is all in or all out.
 */
export type AppendRequest = TopicAppend[]

/** What a message expects of the log before it (optimistic concurrency, see ProducerMessage). */
export interface Expectation {
  /** The partition's end offset: the offset the record gets. */
  offset?: number
  /** The offset of the last record with the record's key in the partition; -1: none. */
  keyOffset?: number
}

export interface TopicAppend {
  topic: TopicRow
  parts: Map<
    number,
    {
      records: RecordInput[]
      sizes: number[]
      /** Per record (sparse): what it expects, checked in the append transaction. */
      expect?: (Expectation | undefined)[]
    }
  >
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
  /** The partition's end offset once `records` are appended. */
  end: number
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
  // Keys whose last offset a record expects, per partition: looked up in the transaction.
  const wanted = new Map<string, Set<string>>()
  for (const t of requests.flat()) {
    for (const [p, part] of t.parts) {
      part.expect?.forEach((e, i) => {
        const key = part.records[i]!.key
        if (e?.keyOffset === undefined || key === null) return
        const id = partId(t.topic.name, p)
        let set = wanted.get(id)
        if (!set) wanted.set(id, (set = new Set()))
        set.add(keyIdentity(key))
      })
    }
  }
  const cached = options.heads ? keys.map((k) => options.heads!.get(partId(k[0], k[1]))) : []
  // Key lookups need the heads first (how far back to read): no writes ahead of the reads then.
  const optimistic = wanted.size === 0 && cached.length > 0 && cached.every((h) => h !== undefined)
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
        const found = new Map<string, Map<string, number | undefined>>()
        if (wanted.size > 0) {
          await Promise.all(
            keys.map(async (k, i) => {
              const id = partId(k[0], k[1])
              const set = wanted.get(id)
              const head = heads[i]
              if (set && head) found.set(id, await lastKeyOffsets(tx, head, set))
            }),
          )
        }
        const plan = planGroup(requests, keys, heads, options, found)
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
  found: ReadonlyMap<string, ReadonlyMap<string, number | undefined>>,
): AppendOutcome & { segments: SegmentRow[]; batches: BatchRow[] } {
  const states = new Map(keys.map((k, i) => [partId(k[0], k[1]), heads[i]]))
  /** The last offset of each looked-up key as the group's earlier requests left it. */
  const keyLast = new Map<string, number>()
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
    const refused = checkExpectations(request, states, work, found, keyLast)
    if (refused) {
      outcomes[index] = { ok: false, error: refused }
      return
    }
    outcomes[index] = { ok: true, value: [] }
    for (const { topic, parts, json } of request) {
      for (const [p, part] of parts) {
        const id = partId(topic.name, p)
        let w = work.get(id)
        if (!w) {
          const state = states.get(id)!
          w = { state, topic, records: [], sizes: [], owners: [], json, end: state.nextOffset }
          work.set(id, w)
        }
        w.json &&= json
        w.owners.push([index, part.records.length])
        for (let i = 0; i < part.records.length; i++) {
          const record = part.records[i]!
          w.records.push(record)
          w.sizes.push(part.sizes[i]!)
          w.end = (record.offset ?? w.end) + 1
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

/**
 * Checks a request's expectations against the partitions as the group's earlier requests leave
 * them, each record against what precedes it (its own send's earlier records included). Returns
 * the error refusing the whole request, or nothing and records the request's keys in `keyLast`.
 */
function checkExpectations(
  request: AppendRequest,
  states: ReadonlyMap<string, PartitionRow | undefined>,
  work: ReadonlyMap<string, PartitionWork>,
  found: ReadonlyMap<string, ReadonlyMap<string, number | undefined>>,
  keyLast: Map<string, number>,
): Error | undefined {
  if (found.size === 0 && !request.some((t) => [...t.parts.values()].some((p) => p.expect))) return
  const ends = new Map<string, number>()
  const keys = new Map<string, number>()
  for (const { topic, parts } of request) {
    for (const [partition, part] of parts) {
      const id = partId(topic.name, partition)
      const lookedUp = found.get(id)
      let end = ends.get(id) ?? work.get(id)?.end ?? states.get(id)!.nextOffset
      for (let i = 0; i < part.records.length; i++) {
        const record = part.records[i]!
        const offset = record.offset ?? end
        const expect = part.expect?.[i]
        const ident = lookedUp && record.key !== null ? keyIdentity(record.key) : undefined
        const keyId = ident === undefined ? '' : `${id}\u0000${ident}`
        if (expect?.offset !== undefined && expect.offset !== offset) {
          const { key } = record
          return ConcurrencyError.of({
            topic: topic.name,
            partition,
            key,
            expectation: 'offset',
            expected: expect.offset,
            actual: offset,
          })
        }
        if (expect?.keyOffset !== undefined) {
          // No lookup for the key (there always is one): refused as unknown, never let through.
          const actual =
            ident === undefined
              ? undefined
              : (keys.get(keyId) ?? keyLast.get(keyId) ?? lookedUp!.get(ident))
          if (actual === undefined) {
            return new InvalidArgumentError(
              `Send to ${topic.name}-${partition}: cannot check expectedKeyOffset, the key has no ` +
                `record in the partition's last ${KEY_LOOKUP_OFFSETS} offsets and older ones remain ` +
                `(the log has no key index; the lookup reads no further)`,
            )
          }
          if (actual !== expect.keyOffset) {
            return ConcurrencyError.of({
              topic: topic.name,
              partition,
              key: record.key,
              expectation: 'keyOffset',
              expected: expect.keyOffset,
              actual,
            })
          }
        }
        if (ident !== undefined && lookedUp!.has(ident)) keys.set(keyId, offset)
        end = offset + 1
      }
      ends.set(id, end)
    }
  }
  for (const [keyId, offset] of keys) keyLast.set(keyId, offset)
  return undefined
}
