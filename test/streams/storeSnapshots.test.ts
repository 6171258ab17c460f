import { afterEach, expect, test, vi } from 'vitest'
import {
  KafkaStreams,
  loadSnapshot,
  memoryStorage,
  openLog,
  saveSnapshot,
  storeSnapshotLabel,
  type Log,
} from '../../src/index.ts'
import { keyId } from '../../src/streams/KeyValueStore.ts'
import { ViewMirror } from '../../src/worker/views/ViewMirror.ts'
import { createViewsApi } from '../../src/worker/views/createViewsApi.ts'
import {
  changelogView,
  snapshotEntries,
  type SnapshotMessage,
  type ViewMessage,
} from '../../src/worker/index.ts'
import { loadSnapshotImage } from '../../src/log/TopicSnapshot.ts'
import { ViewState } from '../../src/zustand/ViewState.ts'
import { until } from '../support/until.ts'
import { CHANGELOG, totalsLabel, totalsTopology } from '../support/snapshotFixtures.ts'

// Store snapshots: Kafka Streams restores a store from its local state and the changelog after
// its checkpoint (ProcessorStateManager, the `.checkpoint` file) instead of the whole changelog.
// duality keeps that image beside the log (TopicSnapshot); these tests check it is used when it is
// true of the changelog, and discarded (rebuilt from the changelog) whenever it is not.

const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  vi.restoreAllMocks()
  for (const close of closers.splice(0).reverse()) await close()
})

async function seeded(events: number, keys: number) {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  closers.push(() => log.close())
  await log.admin().createTopics({ topics: [{ topic: 'payments', numPartitions: 1 }] })
  const messages = Array.from({ length: events }, (_, i) => ({ key: `k${i % keys}`, value: 1 }))
  await log.producer().send({ topic: 'payments', messages })
  const streams = new KafkaStreams(totalsTopology(), log, {
    applicationId: 'app',
    pollMs: 20,
    // Small batches: the changelog gets a record per key per batch, so it outgrows the store.
    maxRecordsPerBatch: 100,
    snapshots: { minRecords: 10 },
  })
  await streams.start()
  await until(async () => {
    const [committed] = await log.admin().fetchOffsets({ groupId: 'app', topics: ['payments'] })
    return committed!.partitions[0]!.offset === events
  })
  // The idle instance's last snapshot covers the whole changelog.
  await until(async () => {
    const { high } = (await log.offsets(CHANGELOG))[0]!
    return (await loadSnapshot(log, CHANGELOG, totalsLabel())).snapshot?.offsets[0] === high
  })
  await streams.close()
  return log
}

/** Counts the changelog records a restore reads. */
function countReads(log: Log) {
  let records = 0
  const fetch = log.fetch.bind(log)
  log.fetch = (async (options: Parameters<Log['fetch']>[0]) => {
    const result = await fetch(options)
    if (options.topic === CHANGELOG) records += result.records.length
    return result
  }) as Log['fetch']
  return () => records
}

async function restoredTotals(log: Log) {
  const streams = new KafkaStreams(totalsTopology(), log, { applicationId: 'app', pollMs: 20 })
  await streams.start()
  closers.push(() => streams.close())
  const totals = new Map(
    streams
      .store<string, number>('totals')
      .all()
      .map((e) => [e.key, e.value]),
  )
  return totals
}

test('an idle instance snapshots its store; the next one restores from it, reading no changelog history', async () => {
  const log = await seeded(5_000, 50)
  const { snapshot } = await loadSnapshot(log, CHANGELOG, totalsLabel())
  expect(snapshot!.entries).toHaveLength(50)
  const { high } = (await log.offsets(CHANGELOG))[0]!
  expect(snapshot!.offsets).toEqual([high])
  const reads = countReads(log)
  const totals = await restoredTotals(log)
  expect(totals.size).toBe(50)
  expect([...totals.values()].every((v) => v === 100)).toBe(true)
  // Everything came from the snapshot: the changelog holds `high` records, none was read.
  expect(high).toBeGreaterThan(50)
  expect(reads()).toBe(0)
})

test('a damaged snapshot is detected, warned about and the store rebuilt from the changelog', async () => {
  const log = await seeded(2_000, 20)
  // One byte of the stored image changes: "k0" becomes "k1"'s twin.
  await log.storage.write(['snapshots'], async (tx) => {
    const row = (await tx.get('snapshots', [CHANGELOG, 1]))!
    tx.put('snapshots', { ...row, values: row.values!.replace('100', '999') })
  })
  expect((await loadSnapshot(log, CHANGELOG, totalsLabel())).rejected).toBe('damaged')
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
  const reads = countReads(log)
  const totals = await restoredTotals(log)
  expect([...totals.values()]).toEqual(Array(20).fill(100))
  expect(reads()).toBeGreaterThan(0)
  expect(warn).toHaveBeenCalledWith(expect.stringContaining('is damaged'))
})

test('a snapshot from a topology of another shape is foreign and not used', async () => {
  const log = await seeded(1_000, 10)
  const other = storeSnapshotLabel(totalsTopology('other'), 'totals')
  expect(other).not.toBe(totalsLabel())
  expect((await loadSnapshot(log, CHANGELOG, other)).rejected).toBe('foreign')
})

test('a snapshot beyond the changelog (storage rolled back) or below its start is rejected', async () => {
  const log = await seeded(1_000, 10)
  const { high } = (await log.offsets(CHANGELOG))[0]!
  // saveSnapshot refuses offsets beyond the end: plant the header as a rolled-back disk would.
  await log.storage.write(['snapshots'], async (tx) => {
    const row = (await tx.get('snapshots', [CHANGELOG, 0]))!
    tx.put('snapshots', { ...row, header: { ...row.header!, offsets: [high + 5] } })
  })
  expect((await loadSnapshot(log, CHANGELOG, totalsLabel())).rejected).toBe('ahead')
  await expect(
    saveSnapshot(log, { topic: CHANGELOG, offsets: [high + 1], label: totalsLabel(), entries: [] }),
  ).rejects.toThrow(/beyond partition 0's end/)
  // A tombstone the cleaner removed above the snapshot: the image may hold a deleted key.
  await log.storage.write(['partitions', 'snapshots'], async (tx) => {
    const [p, row] = await Promise.all([
      tx.get('partitions', [CHANGELOG, 0]),
      tx.get('snapshots', [CHANGELOG, 0]),
    ])
    tx.put('partitions', { ...p!, tombstonesRemovedTo: high })
    tx.put('snapshots', { ...row!, header: { ...row!.header!, offsets: [high - 1] } })
  })
  expect((await loadSnapshot(log, CHANGELOG, totalsLabel())).rejected).toBe('behind')
})

test('a snapshot of a topic deleted and created again is stale', async () => {
  const log = await seeded(1_000, 10)
  const { snapshot } = await loadSnapshot(log, CHANGELOG, totalsLabel())
  await log.admin().deleteTopics({ topics: [CHANGELOG] })
  await log.admin().createTopics({ topics: [{ topic: CHANGELOG, numPartitions: 1 }] })
  // deleteTopics removed it with the topic; one written under the old id is refused as stale.
  expect((await loadSnapshot(log, CHANGELOG, totalsLabel())).snapshot).toBeNull()
  await log.storage.write(['snapshots'], (tx) => {
    tx.put('snapshots', {
      topic: CHANGELOG,
      part: 0,
      header: {
        topicId: snapshot!.topicId,
        offsets: [0],
        label: totalsLabel(),
        writtenAt: 0,
        parts: 0,
        entries: 0,
        checksum: 0x811c9dc5,
      },
    })
  })
  expect((await loadSnapshot(log, CHANGELOG, totalsLabel())).rejected).toBe('stale')
})

test('a view starts from the snapshot and folds only the changelog after it', async () => {
  const log = await seeded(1_000, 10)
  const { snapshot } = await loadSnapshot(log, CHANGELOG, totalsLabel())
  // An image that differs from the changelog shows where the view's state came from.
  const planted = snapshot!.entries.map(([k, , t]): [string, unknown, number] => [k, -1, t])
  await saveSnapshot(log, {
    topic: CHANGELOG,
    offsets: snapshot!.offsets,
    label: totalsLabel(),
    entries: planted,
  })
  const withLabel = new ViewMirror(log, CHANGELOG, totalsLabel())
  closers.push(() => withLabel.close())
  await withLabel.loaded
  expect([...withLabel.entries.values()].map((e) => e[1])).toEqual(Array(10).fill(-1))
  // Without the label (or with another), the view folds the changelog itself.
  const without = new ViewMirror(log, CHANGELOG)
  closers.push(() => without.close())
  await without.loaded
  expect([...without.entries.values()].map((e) => e[1])).toEqual(Array(10).fill(100))
  // The tail after the snapshot is folded on top of it.
  await log
    .producer()
    .send({ topic: CHANGELOG, messages: [{ key: '"k0"', value: { value: 7, timestamp: 1 } }] })
  const late = new ViewMirror(log, CHANGELOG, totalsLabel())
  closers.push(() => late.close())
  await late.loaded
  expect(late.entries.get('"k0"')![1]).toBe(7)
  expect(late.entries.get('"k1"')![1]).toBe(-1)
})

test('a busy instance snapshots a store once its tail is four times the store, not at each store-sized tail', async () => {
  const log = await openLog({ storage: memoryStorage(), cleaner: false })
  closers.push(() => log.close())
  await log.admin().createTopics({ topics: [{ topic: 'payments', numPartitions: 1 }] })
  // 50 keys, batches of 100: every batch rewrites the whole store into the changelog (50 records).
  const messages = Array.from({ length: 5_000 }, (_, i) => ({ key: `k${i % 50}`, value: 1 }))
  await log.producer().send({ topic: 'payments', messages })
  // The changelog offset each snapshot reflects, in the order they were written.
  const written: number[] = []
  const write = log.storage.write.bind(log.storage)
  log.storage.write = (async (...args: Parameters<typeof write>) => {
    const result = await write(...args)
    if (args[0].includes('snapshots')) {
      const { snapshot } = await loadSnapshot(log, CHANGELOG, totalsLabel())
      written.push(snapshot!.offsets[0]!)
    }
    return result
  }) as typeof write
  const streams = new KafkaStreams(totalsTopology(), log, {
    applicationId: 'app',
    pollMs: 20,
    maxRecordsPerBatch: 100,
    snapshots: { minRecords: 10 },
  })
  closers.push(() => streams.close())
  await streams.start()
  await until(async () => {
    const [committed] = await log.admin().fetchOffsets({ groupId: 'app', topics: ['payments'] })
    return committed!.partitions[0]!.offset === 5_000
  })
  const { high } = (await log.offsets(CHANGELOG))[0]!
  await until(() => written.at(-1) === high)
  // Written while catching up (all but the idle instance's last): each after a tail of at least
  // 4 x 50 records. A snapshot per store-sized tail would have come every 50 to 100 records.
  const busy = written.slice(0, -1)
  expect(busy.length).toBeGreaterThanOrEqual(2)
  busy.forEach((offset, i) => expect(offset - (busy[i - 1] ?? 0)).toBeGreaterThanOrEqual(200))
})

test('a key-value store is imaged in key order, and a second read of the same image reuses its decode', async () => {
  const log = await seeded(2_000, 20)
  const first = await loadSnapshot(log, CHANGELOG, totalsLabel())
  const ids = first.snapshot!.entries.map(([text]) => keyId(JSON.parse(text)))
  expect(ids).toEqual([...ids].sort())
  // The view's mirror and the topology's restore read the same image at boot: a decode is
  // reused by the one read after it, and only by that one (it is not held for the worker's life).
  const second = await loadSnapshot(log, CHANGELOG, totalsLabel())
  const third = await loadSnapshot(log, CHANGELOG, totalsLabel())
  const reusedSecond = second.snapshot!.entries === first.snapshot!.entries
  const reusedThird = third.snapshot!.entries === second.snapshot!.entries
  expect(reusedSecond).not.toBe(reusedThird)
  expect(third.snapshot!.entries).toEqual(first.snapshot!.entries)
})

test("a view at its stored snapshot sends the snapshot's chunks as stored, then follows appends", async () => {
  const log = await seeded(300, 30)
  const { image } = await loadSnapshotImage(log, CHANGELOG, totalsLabel())
  expect(image).not.toBeNull()
  const api = createViewsApi(log, [
    { ...changelogView('app', 'totals'), snapshotLabel: totalsLabel() },
  ])
  closers.push(() => api.close())
  const messages: ViewMessage[] = []
  await api.subscribe('totals', (m) => messages.push(m))
  const first = messages[0] as SnapshotMessage
  // Not decoded and packed again: the stored chunks themselves.
  expect(first.chunks).toEqual(image!.chunks)
  expect(first.offsets).toEqual(image!.header.offsets)
  let state = ViewState.fromSnapshot<string, number>(first)
  expect(state.size).toBe(30)
  expect(state.get('k0')).toBe(10)
  // A record after it: the mirror decodes its snapshot and the diff starts where the page is.
  const streams = new KafkaStreams(totalsTopology(), log, { applicationId: 'app', pollMs: 20 })
  closers.push(() => streams.close())
  await streams.start()
  await log.producer().send({ topic: 'payments', messages: [{ key: 'k0', value: 5 }] })
  await until(() => messages.some((m) => m.type === 'diff'))
  for (const m of messages.slice(1)) if (m.type === 'diff') state = state.apply(m)
  expect(state.get('k0')).toBe(15)
  expect(state.get('k1')).toBe(10)
  expect(state.size).toBe(30)
})

test('a view whose changelog moved past its snapshot decodes it and sends the entries with the tail', async () => {
  const log = await seeded(300, 30)
  // Two records past the snapshot, written without a new snapshot.
  const streams = new KafkaStreams(totalsTopology(), log, {
    applicationId: 'app',
    pollMs: 20,
    snapshots: false,
  })
  await streams.start()
  await log.producer().send({
    topic: 'payments',
    messages: [
      { key: 'k0', value: 5 },
      { key: 'new', value: 1 },
    ],
  })
  await until(async () => {
    const [c] = await log.admin().fetchOffsets({ groupId: 'app', topics: ['payments'] })
    return c!.partitions[0]!.offset === 302
  })
  await streams.close()
  const api = createViewsApi(log, [
    { ...changelogView('app', 'totals'), snapshotLabel: totalsLabel() },
  ])
  closers.push(() => api.close())
  const messages: ViewMessage[] = []
  await api.subscribe('totals', (m) => messages.push(m))
  const entries = new Map(snapshotEntries(messages[0] as SnapshotMessage).map((e) => [e[0], e[1]]))
  expect(entries.size).toBe(31)
  expect(entries.get('"k0"')).toBe(15)
  expect(entries.get('"new"')).toBe(1)
})
