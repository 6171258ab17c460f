import { afterEach, expect, test, vi } from 'vitest'
import {
  KafkaStreams,
  loadSnapshot,
  openLog,
  storeSnapshotLabel,
  type Log,
} from '../../src/index.ts'
import { idbStorage } from '../../src/storage/idb/index.ts'
import { ViewMirror } from '../../src/worker/views/ViewMirror.ts'
import { until } from '../support/until.ts'
import { CHANGELOG, totalsLabel, totalsTopology } from '../support/snapshotFixtures.ts'

// Store snapshots on real IndexedDB (Kafka Streams' checkpointed state, ProcessorStateManager):
// an image stored on disk is read back after the database is closed and opened again, and one
// damaged on disk, one from another topology and one beyond the changelog (the storage rolled
// back) are each refused and the state rebuilt from the changelog.

const run = `${Date.now()}-${Math.random().toString(36).slice(2)}`
let n = 0
const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  vi.restoreAllMocks()
  for (const close of closers.splice(0).reverse()) await close()
})

async function open(name: string): Promise<Log> {
  const log = await openLog({ storage: await idbStorage({ name }), cleaner: false })
  closers.push(() => log.close())
  return log
}

/** A database whose topology processed 3,000 payments over 30 keys and left a snapshot. */
async function seeded(): Promise<string> {
  const name = `snapshots-${run}-${n++}`
  const log = await openLog({ storage: await idbStorage({ name }), cleaner: false })
  await log.admin().createTopics({ topics: [{ topic: 'payments', numPartitions: 1 }] })
  const messages = Array.from({ length: 3_000 }, (_, i) => ({ key: `k${i % 30}`, value: 1 }))
  await log.producer().send({ topic: 'payments', messages })
  const streams = new KafkaStreams(totalsTopology(), log, {
    applicationId: 'app',
    pollMs: 20,
    maxRecordsPerBatch: 100,
    snapshots: { minRecords: 10 },
  })
  await streams.start()
  await until(async () => {
    const [committed] = await log.admin().fetchOffsets({ groupId: 'app', topics: ['payments'] })
    return committed!.partitions[0]!.offset === 3_000
  })
  await until(async () => {
    const { high } = (await log.offsets(CHANGELOG))[0]!
    return (await loadSnapshot(log, CHANGELOG, totalsLabel())).snapshot?.offsets[0] === high
  })
  await streams.close()
  await log.close()
  return name
}

/** The view's values once loaded, and how many changelog records it read to get there. */
async function view(log: Log, snapshotLabel = totalsLabel()) {
  let reads = 0
  const fetch = log.fetch.bind(log)
  log.fetch = (async (options: Parameters<Log['fetch']>[0]) => {
    const result = await fetch(options)
    if (options.topic === CHANGELOG) reads += result.records.length
    return result
  }) as Log['fetch']
  const mirror = new ViewMirror(log, CHANGELOG, snapshotLabel)
  closers.push(() => mirror.close())
  await mirror.loaded
  return { values: [...mirror.entries.values()].map((e) => e[1]), reads }
}

/** Changes the stored snapshot rows with raw IndexedDB, as a damaged disk or a rollback would. */
async function tamper(name: string, change: (row: Record<string, unknown>) => void, part: number) {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(name)
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  await new Promise<void>((resolve, reject) => {
    const tx = db.transaction('snapshots', 'readwrite')
    const store = tx.objectStore('snapshots')
    const get = store.get([CHANGELOG, part])
    get.onsuccess = () => {
      const row = get.result as Record<string, unknown>
      change(row)
      store.put(row)
    }
    tx.oncomplete = () => resolve()
    tx.onerror = () => reject(tx.error)
  })
  db.close()
}

test('a snapshot on disk is read back after reopening: the view folds no changelog history', async () => {
  const log = await open(await seeded())
  const { values, reads } = await view(log)
  expect(values).toEqual(Array(30).fill(100))
  expect(reads).toBe(0)
})

test('a snapshot damaged on disk is refused with a warning and the view rebuilt', async () => {
  const name = await seeded()
  await tamper(name, (row) => (row.values = (row.values as string).replace('100', '101')), 1)
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
  const log = await open(name)
  const { values, reads } = await view(log)
  expect(values).toEqual(Array(30).fill(100))
  expect(reads).toBeGreaterThan(0)
  expect(warn).toHaveBeenCalledWith(expect.stringContaining('is damaged'))
})

test('a snapshot of an older topology is refused and the view rebuilt', async () => {
  const log = await open(await seeded())
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
  const { values, reads } = await view(log, storeSnapshotLabel(totalsTopology('renamed'), 'totals'))
  expect(values).toEqual(Array(30).fill(100))
  expect(reads).toBeGreaterThan(0)
  expect(warn).toHaveBeenCalledWith(expect.stringContaining('is foreign'))
})

test('a snapshot beyond the changelog (storage rolled back) is refused and the view rebuilt', async () => {
  const name = await seeded()
  await tamper(
    name,
    (row) => {
      const header = row.header as { offsets: number[] }
      header.offsets = [header.offsets[0]! + 1_000]
    },
    0,
  )
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
  const log = await open(name)
  // The topology's restore refuses it too: its store matches an uninterrupted run.
  const streams = new KafkaStreams(totalsTopology(), log, { applicationId: 'app', pollMs: 20 })
  await streams.start()
  closers.push(() => streams.close())
  expect(
    streams
      .store<string, number>('totals')
      .all()
      .map((e) => e.value),
  ).toEqual(Array(30).fill(100))
  const { values, reads } = await view(log)
  expect(values).toEqual(Array(30).fill(100))
  expect(reads).toBeGreaterThan(0)
  expect(warn).toHaveBeenCalledWith(expect.stringContaining('is ahead'))
})
