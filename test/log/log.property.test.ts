// Property tests of the log against a small reference model: random sends, chunked
// reads, clock advances, rolls (Log.roll) and cleaner runs on random topic configs, on memory storage and on
// fake-indexeddb (in Node). The model keeps, per partition, the records that should be present and
// the segment boundaries. Segments roll on all three of Kafka's triggers, generated here: by
// records (segment.records), by size (segment.bytes, with values padded up to and past it) and by
// age (segment.ms, against a clock the commands advance). The model tracks the active segment's
// bytes and age to know where each roll falls, so it predicts every cleaner report exactly and
// checks every read record by record. The cleaner also rolls an active segment segment.ms old
// before it cleans (Cleaner.rollIdle), so a partition that went quiet is still cleaned.
import 'fake-indexeddb/auto'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { idbStorage } from '../../src/storage/idb/index.ts'
import {
  memoryStorage,
  openLog,
  type CleanReport,
  type Log,
  type LogRecord,
  type LogStorage,
} from '../../src/index.ts'
import { propertyRuns, propertyTimeout, replaying } from '../support/propertyRuns.ts'

const TOPIC = 'prop'
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']
const START = 1_700_000_000_000
const NEVER = 31_536_000_000_000 // 1,000 years: segments never roll by age
const GIB = 1024 * 1024 * 1024 // segments never roll by size
/** What the log counts for a stored row (Kafka's record batch header), and for each record. */
const ROW_OVERHEAD = 61
const RECORD_OVERHEAD = 16
/** The log's default maxRowBytes: sends then make one row per segment they touch. */
const DEFAULT_ROW_BYTES = 256 * 1024

type Policy = 'delete' | 'compact' | 'compact,delete'

interface Setup {
  policy: Policy
  numPartitions: number
  /** segment.records, or null to leave it unset (no limit). */
  segmentRecords: number | null
  segmentBytes: number
  segmentMs: number
  retentionMs: number
  deleteRetentionMs: number
  lagMs: number
  /** How many keys of KEYS the run uses, and how many messages in ten are tombstones. */
  keys: number
  tombstones: number
  /** Small rows split sends and compacted segments into many rows. */
  maxRowBytes: number | undefined
  /** The longest padding of a value: records from a few bytes to more than a whole segment. */
  pad: number
  /** How far before the clock a message's own timestamp may be (0: every record takes the clock). */
  skew: number
}

interface Message {
  partition: number
  key: number | null
  tombstone: boolean
  /** Padding of the value, in bytes. */
  pad: number
  /** The message's timestamp as ms before the clock (negative: after it), or null for the clock. */
  back: number | null
}

type Command =
  /** Sends issued in one go: they share one group commit, so one append per partition. */
  | { kind: 'send'; sends: Message[][] }
  | {
      kind: 'read'
      partition: number
      /** Picks the start offset in [low - 1, high + 1], so out-of-range reads happen too. */
      pick: number
      maxRecords: number | undefined
      maxBytes: number | undefined
    }
  | { kind: 'tick'; ms: number }
  | { kind: 'clean' }
  /** Log.roll of one partition (`partition` modulo the topic's) or, null, of all of them. */
  | { kind: 'roll'; partition: number | null }

interface ModelRecord {
  offset: number
  timestamp: number
  key: string | null
  value: string | null
  /** For a tombstone: when it may go, set by the first cleaning that kept it. */
  horizon?: number
}

interface ModelPartition {
  /** Records that must be present, in offset order. */
  records: ModelRecord[]
  low: number
  next: number
  /** The cleaner checkpoint: everything below was compacted. */
  cleaned: number
  /** Base offsets of the closed segments that still hold records. */
  closed: number[]
  /** The active segment: never cleaned, and only ever growing until it rolls. */
  active: ActiveSegment
}

interface ActiveSegment {
  base: number
  /** Records appended to it (all still present: nothing cleans the active segment). */
  records: number
  /** Its stored size: every row's header plus its records' sizes. */
  bytes: number
  /** The clock when its first record was appended: its age counts from there. */
  createdAt: number
}

/** How many of the run's cases rolled a segment for each reason: the generators must reach all. */
const rolled = { cases: 0, records: 0, bytes: 0, age: 0 }

const setupArb: fc.Arbitrary<Setup> = fc.record({
  policy: fc.constantFrom<Policy>('delete', 'compact', 'compact,delete'),
  numPartitions: fc.integer({ min: 1, max: 3 }),
  segmentRecords: fc.option(fc.integer({ min: 1, max: 6 }), { nil: null, freq: 2 }),
  // From the smallest segment.bytes the log takes (1 KiB: a few records) to never.
  segmentBytes: fc.constantFrom(1024, 1500, 3000, GIB),
  // Clock ticks are up to 800 ms: from rolling at nearly every send to never.
  segmentMs: fc.constantFrom(1, 300, 1000, NEVER),
  retentionMs: fc.constantFrom(-1, 500, 1500, 4000),
  deleteRetentionMs: fc.constantFrom(0, 250, 1000),
  lagMs: fc.constantFrom(0, 0, 400),
  keys: fc.integer({ min: 1, max: KEYS.length }),
  tombstones: fc.integer({ min: 0, max: 4 }),
  maxRowBytes: fc.constantFrom(undefined, 120, 300),
  pad: fc.constantFrom(0, 40, 400, 1200),
  skew: fc.constantFrom(0, 0, 2000),
})

const commandArb = ({ policy, keys, tombstones, pad, skew }: Setup): fc.Arbitrary<Command> => {
  const message: fc.Arbitrary<Message> = fc.record({
    partition: fc.integer({ min: 0, max: 2 }),
    // Keyless records only where they are allowed: compacted topics reject them.
    key:
      policy === 'delete'
        ? fc.option(fc.integer({ min: 0, max: keys - 1 }), { freq: 4 })
        : fc.integer({ min: 0, max: keys - 1 }),
    tombstone: fc.integer({ min: 0, max: 9 }).map((n) => n < tombstones),
    pad: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: pad })),
    // Own timestamps: older than the clock (so retention and the compaction lag look at
    // record time, not append time), or a little ahead of it.
    back:
      skew === 0
        ? fc.constant(null)
        : fc.option(fc.integer({ min: -200, max: skew }), { nil: null }),
  })
  const send = (maxLength: number) => fc.array(message, { minLength: 1, maxLength, size: 'max' })
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('send' as const),
        sends: fc.oneof(
          { weight: 3, arbitrary: fc.tuple(send(20)) },
          { weight: 1, arbitrary: fc.array(send(10), { minLength: 2, maxLength: 3 }) },
        ),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('read' as const),
        partition: fc.integer({ min: 0, max: 2 }),
        pick: fc.nat(10_000),
        maxRecords: fc.option(fc.integer({ min: 1, max: 25 }), { nil: undefined }),
        maxBytes: fc.option(fc.integer({ min: 1, max: 2000 }), { nil: undefined }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('tick' as const),
        // Mostly multiples of 50 ms, so records land exactly on retention and lag boundaries.
        ms: fc.oneof(
          { weight: 4, arbitrary: fc.integer({ min: 0, max: 16 }).map((n) => n * 50) },
          { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) },
        ),
      }),
    },
    { weight: 3, arbitrary: fc.constant({ kind: 'clean' as const }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('roll' as const),
        partition: fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }),
      }),
    },
  )
}

const scenarioArb = (maxCommands: number) =>
  setupArb.chain((setup) =>
    fc.record({
      setup: fc.constant(setup),
      commands: fc.array(commandArb(setup), {
        minLength: 1,
        maxLength: maxCommands,
        size: 'max',
      }),
    }),
  )

const project = (r: LogRecord | ModelRecord) => ({
  offset: r.offset,
  timestamp: r.timestamp,
  key: r.key,
  value: r.value,
})

/** The present records of the segment starting at `base` (up to the next segment's base). */
function presentIn(part: ModelPartition, base: number): ModelRecord[] {
  const bases = [...part.closed, part.active.base]
  const i = bases.indexOf(base)
  const end = bases[i + 1] ?? part.next
  return part.records.filter((r) => r.offset >= base && r.offset < end)
}

const maxTimestamp = (records: ModelRecord[]) =>
  Math.max(-Infinity, ...records.map((r) => r.timestamp))

async function runScenario(storage: LogStorage, setup: Setup, commands: Command[]): Promise<void> {
  let now = START
  const log: Log = await openLog({
    storage,
    cleaner: false,
    clock: () => now,
    ...(setup.maxRowBytes === undefined ? {} : { maxRowBytes: setup.maxRowBytes }),
  })
  const compacted = setup.policy !== 'delete'
  const retained = setup.policy !== 'compact'
  try {
    await log.admin().createTopics({
      topics: [
        {
          topic: TOPIC,
          numPartitions: setup.numPartitions,
          configEntries: [
            { name: 'cleanup.policy', value: setup.policy },
            ...(setup.segmentRecords === null
              ? []
              : [{ name: 'segment.records', value: String(setup.segmentRecords) }]),
            { name: 'segment.bytes', value: String(setup.segmentBytes) },
            { name: 'segment.ms', value: String(setup.segmentMs) },
            { name: 'retention.ms', value: String(setup.retentionMs) },
            { name: 'delete.retention.ms', value: String(setup.deleteRetentionMs) },
            { name: 'min.compaction.lag.ms', value: String(setup.lagMs) },
          ],
        },
      ],
    })
    const parts: ModelPartition[] = Array.from({ length: setup.numPartitions }, () => ({
      records: [],
      low: 0,
      next: 0,
      cleaned: 0,
      closed: [],
      active: { base: 0, records: 0, bytes: 0, createdAt: now },
    }))
    const rolls = { records: false, bytes: false, age: false }
    // Every record ever appended, to check "a key's latest record survives" on its own terms.
    const history: ModelRecord[][] = parts.map(() => [])
    const producer = log.producer()
    let seq = 0

    const checkAll = async () => {
      const offsets = await log.admin().fetchTopicOffsets(TOPIC)
      expect(offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high }))).toEqual(
        parts.map((m, partition) => ({ partition, low: m.low, high: m.next })),
      )
      for (let p = 0; p < parts.length; p++) {
        const part = parts[p]!
        const all = await log.read({ topic: TOPIC, partition: p, offset: part.low })
        expect(all.records.map(project)).toEqual(part.records.map(project))
        // fetch gives the same records, values deserialised by the default JSON serde.
        const fetched = await log.fetch({ topic: TOPIC, partition: p, offset: part.low })
        expect(fetched.records.map((m) => [m.offset, m.key, m.value])).toEqual(
          part.records.map((r) => [r.offset, r.key, r.value === null ? null : JSON.parse(r.value)]),
        )
        // Independent of the model: each key's newest record is still there, unless it fell below
        // the log start or is a tombstone whose delete.retention.ms has run out.
        const present = new Set(all.records.map((r) => r.offset))
        const newest = new Map<string, ModelRecord>()
        for (const r of history[p]!) if (r.key !== null) newest.set(r.key, r)
        for (const r of newest.values()) {
          const expired = r.value === null && r.horizon !== undefined && r.horizon <= now
          if (r.offset >= part.low && !expired) expect(present).toContain(r.offset)
        }
        // Below the cleaner checkpoint no key appears twice.
        const below = all.records.filter((r) => r.offset < part.cleaned && r.key !== null)
        expect(new Set(below.map((r) => r.key)).size).toBe(below.length)
      }
    }

    for (const command of commands) {
      if (command.kind === 'tick') {
        now += command.ms
      } else if (command.kind === 'send') {
        const sends = command.sends.map((messages) =>
          messages.map((m) => ({
            partition: m.partition % setup.numPartitions,
            key: m.key === null ? null : KEYS[m.key]!,
            value: m.tombstone
              ? null
              : m.pad === 0
                ? { seq: seq++ }
                : { seq: seq++, pad: 'x'.repeat(m.pad) },
            ...(m.back === null ? {} : { timestamp: now - m.back }),
          })),
        )
        // Issued in the same task, the sends share one transaction: each partition gets one
        // append of their records, in the order the sends were made.
        const results = await Promise.all(
          sends.map((messages) => producer.send({ topic: TOPIC, messages })),
        )
        const sent = new Map<number, ModelRecord[]>()
        const bases = sends.map((messages) => {
          const bases = new Map<number, number>()
          for (const m of messages) {
            const records = sent.get(m.partition) ?? []
            sent.set(m.partition, records)
            if (!bases.has(m.partition))
              bases.set(m.partition, parts[m.partition]!.next + records.length)
            const record: ModelRecord = {
              offset: -1, // set by append
              timestamp: m.timestamp ?? now,
              key: m.key,
              value: m.value === null ? null : JSON.stringify(m.value),
            }
            records.push(record)
            history[m.partition]!.push(record)
          }
          return bases
        })
        for (const [p, records] of sent) append(parts[p]!, setup, records, now, rolls)
        // Each send has one entry per partition it wrote, with the offset of its first record there.
        results.forEach((result, i) =>
          expect(
            result
              .map((r) => ({
                partition: r.partition,
                baseOffset: r.baseOffset,
                topic: r.topicName,
              }))
              .sort((x, y) => x.partition - y.partition),
          ).toEqual(
            [...bases[i]!]
              .sort((x, y) => x[0] - y[0])
              .map(([partition, baseOffset]) => ({ partition, baseOffset, topic: TOPIC })),
          ),
        )
      } else if (command.kind === 'read') {
        const p = command.partition % setup.numPartitions
        const part = parts[p]!
        const offset = Math.max(0, part.low - 1 + (command.pick % (part.next - part.low + 3)))
        const limits = {
          ...(command.maxRecords === undefined ? {} : { maxRecords: command.maxRecords }),
          ...(command.maxBytes === undefined ? {} : { maxBytes: command.maxBytes }),
        }
        if (offset < part.low || offset > part.next) {
          await expect(
            log.read({ topic: TOPIC, partition: p, offset, ...limits }),
          ).rejects.toMatchObject({
            code: 'OFFSET_OUT_OF_RANGE',
          })
          continue
        }
        // Read in chunks until caught up; the chunks together are exactly the model's records.
        const chunks: LogRecord[] = []
        let at = offset
        for (let round = 0; ; round++) {
          expect(round).toBeLessThan(1000)
          const chunk = await log.read({ topic: TOPIC, partition: p, offset: at, ...limits })
          expect(chunk.highWatermark).toBe(part.next)
          expect(chunk.logStartOffset).toBe(part.low)
          if (command.maxRecords !== undefined)
            expect(chunk.records.length).toBeLessThanOrEqual(command.maxRecords)
          let previous = at - 1
          for (const r of chunk.records) {
            expect(r.offset).toBeGreaterThan(previous)
            previous = r.offset
          }
          expect(chunk.nextOffset).toBeGreaterThan(previous)
          expect(chunk.nextOffset).toBeLessThanOrEqual(part.next)
          chunks.push(...chunk.records)
          if (chunk.nextOffset === part.next) break
          expect(chunk.nextOffset).toBeGreaterThan(at)
          at = chunk.nextOffset
        }
        const expected = part.records.filter((r) => r.offset >= offset).map(project)
        expect(chunks.map(project)).toEqual(expected)
        const whole = await log.read({ topic: TOPIC, partition: p, offset })
        expect(whole.records.map(project)).toEqual(expected)
        expect(whole.nextOffset).toBe(part.next)
      } else if (command.kind === 'roll') {
        const chosen =
          command.partition === null
            ? parts.map((_, p) => p)
            : [command.partition % setup.numPartitions]
        const results = await log.roll(TOPIC, ...(command.partition === null ? [] : [chosen[0]!]))
        // An empty active segment stays; any other closes, and the next append opens a new one.
        const predicted = chosen.map((p) => ({
          topic: TOPIC,
          partition: p,
          rolled: roll(parts[p]!, now),
          baseOffset: parts[p]!.next,
        }))
        expect(results).toEqual(predicted)
      } else {
        const reports = await log.cleaner.run({ topics: [TOPIC], force: true })
        const predicted: CleanReport[] = parts.map((part, partition) => {
          // The cleaner first rolls an active segment that is segment.ms old: what the next send
          // would have rolled, by the same rule (append's age check below).
          if (part.active.records > 0 && now - part.active.createdAt >= setup.segmentMs)
            roll(part, now)
          const lowBefore = part.low
          const deletedSegments = retained ? retain(part, setup, now) : 0
          expect(part.low).toBeGreaterThanOrEqual(lowBefore)
          const compaction = compacted ? compact(part, setup, now) : null
          return { topic: TOPIC, partition, deletedSegments, logStartOffset: part.low, compaction }
        })
        expect(reports).toEqual(predicted)
        await checkAll()
        // Below the new log start, reads fail rather than silently skipping ahead.
        for (let p = 0; p < parts.length; p++) {
          const low = parts[p]!.low
          if (low > 0)
            await expect(
              log.read({ topic: TOPIC, partition: p, offset: low - 1 }),
            ).rejects.toMatchObject({
              code: 'OFFSET_OUT_OF_RANGE',
            })
        }
      }
    }
    await checkAll()
    rolled.cases++
    for (const reason of ['records', 'bytes', 'age'] as const) if (rolls[reason]) rolled[reason]++
  } finally {
    await log.close()
  }
}

/** The size a record counts for in segment.bytes: framing, key and value bytes (ASCII here). */
const recordSize = (r: ModelRecord) =>
  RECORD_OVERHEAD + (r.key?.length ?? 0) + (r.value?.length ?? 0)

/** The stored bytes of records one send puts in one segment: rows of at most maxRowBytes. */
function rowBytes(sizes: number[], maxRowBytes: number): number {
  let total = 0
  let row = 0
  for (const size of sizes) {
    // A row takes at least one record, then more while they fit.
    if (row === 0 || row + size > maxRowBytes) {
      total += row
      row = ROW_OVERHEAD
    }
    row += size
  }
  return total + row
}

/**
 * One send's records for a partition, in order. Before each record the active segment rolls if it
 * is full: it holds a record and has reached segment.records, or would pass segment.bytes with
 * this record (Kafka rolls before an append that does not fit: UnifiedLog.maybeRoll), or its first
 * record came segment.ms or longer ago by the clock (so an idle segment rolls at the next send, as
 * in Kafka; between sends only Log.roll and the cleaner roll it). The segment takes the record,
 * then more of the same send while the rows they are stored in keep it within segment.bytes and
 * below segment.records: only a segment's first record may take it past segment.bytes.
 */
function append(
  part: ModelPartition,
  setup: Setup,
  records: ModelRecord[],
  now: number,
  rolls: Record<'records' | 'bytes' | 'age', boolean>,
): void {
  const limit = setup.segmentRecords ?? Infinity
  const maxRowBytes = setup.maxRowBytes ?? DEFAULT_ROW_BYTES
  if (part.active.records === 0) part.active.createdAt = now
  let i = 0
  while (i < records.length) {
    const active = part.active
    const full = {
      records: active.records >= limit,
      // The record starts a row of its own: this send's first row in the segment.
      bytes: active.bytes + ROW_OVERHEAD + recordSize(records[i]!) > setup.segmentBytes,
      age: now - active.createdAt >= setup.segmentMs,
    }
    if (active.records > 0 && (full.records || full.bytes || full.age)) {
      for (const reason of ['records', 'bytes', 'age'] as const) rolls[reason] ||= full[reason]
      part.closed.push(active.base)
      part.active = { base: part.next, records: 0, bytes: 0, createdAt: now }
    }
    const segment = part.active
    const stored = (end: number) =>
      segment.bytes + rowBytes(records.slice(i, end).map(recordSize), maxRowBytes)
    let j = i + 1
    while (
      j < records.length &&
      segment.records + (j - i) < limit &&
      stored(j + 1) <= setup.segmentBytes
    )
      j++
    const chunk = records.slice(i, j)
    segment.bytes += rowBytes(chunk.map(recordSize), maxRowBytes)
    segment.records += chunk.length
    for (const record of chunk) {
      record.offset = part.next++
      part.records.push(record)
    }
    i = j
  }
}

/** Closes the active segment if it holds a record (Log.roll); returns whether it did. */
function roll(part: ModelPartition, now: number): boolean {
  if (part.active.records === 0) return false
  part.closed.push(part.active.base)
  part.active = { base: part.next, records: 0, bytes: 0, createdAt: now }
  return true
}

/**
 * Retention by time, Kafka's way: delete whole segments, oldest first, while the newest record of
 * the segment is older than retention.ms; the log start moves to the next segment's base (or to
 * the log end if the active segment went too). Returns the number of segments deleted.
 */
function retain(part: ModelPartition, setup: Setup, now: number): number {
  if (setup.retentionMs < 0) return 0
  const bases = [...part.closed, part.active.base]
  let count = 0
  for (const base of bases) {
    const records = presentIn(part, base)
    if (records.length === 0 || !(maxTimestamp(records) < now - setup.retentionMs)) break
    count++
  }
  if (count === 0) return 0
  part.low = Math.max(part.low, bases[count] ?? part.next)
  part.records = part.records.filter((r) => r.offset >= part.low)
  part.closed = part.closed.slice(count)
  // The active segment went too: an empty one takes its place, its age starting with its first record.
  if (count === bases.length)
    part.active = { base: part.next, records: 0, bytes: 0, createdAt: now }
  part.cleaned = Math.max(part.cleaned, part.low)
  return count
}

/**
 * Compaction, Kafka's way, of a forced run: below the first uncleanable offset (the active
 * segment, or the first segment with a record younger than min.compaction.lag.ms) keep only each
 * key's latest record; tombstones get a horizon of delete.retention.ms at the first cleaning that
 * keeps them and go at the first cleaning past it. Offsets never change.
 */
function compact(part: ModelPartition, setup: Setup, now: number): CleanReport['compaction'] {
  const young =
    setup.lagMs > 0
      ? part.closed.find((b) => maxTimestamp(presentIn(part, b)) > now - setup.lagMs)
      : undefined
  const cleanedUpTo = young ?? part.active.base
  const cleanable = part.closed.filter((b) => b < cleanedUpTo)
  if (cleanable.length === 0) return null
  const dirtyStart = Math.max(part.cleaned, part.low)
  const dirty = cleanable.some((b) => b >= dirtyStart)
  const tombstonesDue = part.records.some(
    (r) => r.offset < cleanedUpTo && r.horizon !== undefined && r.horizon <= now,
  )
  if (!dirty && !tombstonesDue) return null
  const latest = new Map<string, number>()
  for (const r of part.records)
    if (r.offset < cleanedUpTo && r.key !== null) latest.set(r.key, r.offset)
  const before = part.records.length
  part.records = part.records.filter((r) => {
    if (r.offset >= cleanedUpTo) return true
    if (r.key !== null && latest.get(r.key)! > r.offset) return false
    if (r.value !== null) return true
    if (r.horizon !== undefined && now >= r.horizon) return false
    r.horizon ??= now + setup.deleteRetentionMs
    return true
  })
  part.closed = part.closed.filter((b) => presentIn(part, b).length > 0)
  part.cleaned = Math.max(part.cleaned, cleanedUpTo)
  return { cleanedUpTo, removedRecords: before - part.records.length }
}

/**
 * Every roll trigger must show up in the run, in a fair share of the cases (each comes in roughly
 * a quarter to a half of them): otherwise the generators have drifted and the model's rolling
 * rules go untested. Not judged on a replay or a handful of cases.
 */
function expectRollsOfEveryKind(): void {
  if (replaying() || rolled.cases < 200) return
  for (const reason of ['records', 'bytes', 'age'] as const)
    expect(rolled[reason], `cases rolling by ${reason}`).toBeGreaterThanOrEqual(rolled.cases / 10)
}

const CASES = 1000
// Commands per case, and a generous bound on one case's time (for the run's budget).
const MEMORY_COMMANDS = 40
const MEMORY_MS = 300
const IDB_COMMANDS = 25
const IDB_MS = 300

describe('log against a reference model', () => {
  test(
    'memory storage',
    async () => {
      Object.assign(rolled, { cases: 0, records: 0, bytes: 0, age: 0 })
      await fc.assert(
        fc.asyncProperty(scenarioArb(MEMORY_COMMANDS), ({ setup, commands }) =>
          runScenario(memoryStorage(), setup, commands),
        ),
        propertyRuns(CASES, MEMORY_MS),
      )
      expectRollsOfEveryKind()
    },
    propertyTimeout(CASES, MEMORY_MS),
  )

  let db = 0
  test(
    'fake-indexeddb',
    async () => {
      Object.assign(rolled, { cases: 0, records: 0, bytes: 0, age: 0 })
      await fc.assert(
        fc.asyncProperty(scenarioArb(IDB_COMMANDS), async ({ setup, commands }) => {
          const name = `log-property-${process.pid}-${db++}`
          try {
            await runScenario(await idbStorage({ name }), setup, commands)
          } finally {
            await new Promise((resolve) => {
              const request = indexedDB.deleteDatabase(name)
              request.onsuccess = request.onerror = request.onblocked = resolve
            })
          }
        }),
        propertyRuns(CASES, IDB_MS),
      )
      expectRollsOfEveryKind()
    },
    propertyTimeout(CASES, IDB_MS),
  )
})
