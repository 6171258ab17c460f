import { afterEach, expect, test } from 'vitest'
import {
  KafkaStreams,
  memoryStorage,
  openLog,
  StreamsBuilder,
  type ChangelogPreview,
  type Log,
  type LogStorage,
} from '../../../src/index.ts'
import { changelogView, snapshotEntries, type ViewMessage } from '../../../src/worker/index.ts'
import { createViewsApi } from '../../../src/worker/views/createViewsApi.ts'
import { until } from '../../support/until.ts'

// Views move on a topology's batch as soon as its input is processed, before the changelog
// commit (ChangelogPreview), and take it back when that commit does not come as announced.

const CHANGELOG = 'app-totals-changelog'
const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

/**
 * Memory storage whose next commit of consumer offsets (a KafkaStreams batch: outputs, changelog
 * and input position in one transaction) waits until released, or fails.
 */
function gatedStorage(inner: LogStorage) {
  let gate: { opened: Promise<void>; held: boolean } | null = null
  let release: (() => void) | undefined
  let fail: ((error: Error) => void) | undefined
  const storage: LogStorage = {
    kind: inner.kind,
    read: (stores, body) => inner.read(stores, body),
    async write(stores, body, options) {
      if (gate && !gate.held && stores.includes('offsets')) {
        const current = gate
        current.held = true
        await current.opened
      }
      return inner.write(stores, body, options)
    },
    close: () => inner.close(),
  }
  return {
    storage,
    /** Holds the next batch commit; resolves `held()` once it waits. */
    holdNext() {
      const opened = new Promise<void>((resolve, reject) => {
        release = resolve
        fail = reject
      })
      opened.catch(() => undefined)
      gate = { opened, held: false }
      const current = gate
      return {
        held: () => current.held,
        release: () => {
          gate = null
          release!()
        },
        fail: (error: Error) => {
          gate = null
          fail!(error)
        },
      }
    },
  }
}

function topology() {
  const builder = new StreamsBuilder()
  builder
    .stream<string, number>('payments')
    .groupByKey()
    .reduce((a, b) => a + b, { materialized: 'totals' })
  return builder.build()
}

async function setup() {
  const gated = gatedStorage(memoryStorage())
  const log = await openLog({ storage: gated.storage, cleaner: false })
  closers.push(() => log.close())
  await log.admin().createTopics({ topics: [{ topic: 'payments', numPartitions: 2 }] })
  const previews = new Set<(preview: ChangelogPreview) => void>()
  const views = createViewsApi(log, [changelogView('app', 'totals')], {
    schedule: (callback) => setTimeout(callback, 0),
    previews: (listener) => {
      previews.add(listener)
      return () => previews.delete(listener)
    },
  })
  closers.push(() => views.close())
  const startStreams = async () => {
    const streams = new KafkaStreams(topology(), log, { applicationId: 'app', pollMs: 20 })
    const off = streams.onChangelogPreview((p) => {
      for (const listener of previews) listener(p)
    })
    await streams.start()
    closers.push(() => streams.close().finally(off))
    return streams
  }
  // Counts the changelog reads (views that trust a preview do not read its commit back).
  let changelogReads = 0
  const fetch = log.fetch.bind(log)
  log.fetch = ((options: Parameters<Log['fetch']>[0]) => {
    if (options.topic === CHANGELOG) changelogReads++
    return fetch(options)
  }) as Log['fetch']
  const offer = (preview: ChangelogPreview) => {
    for (const listener of previews) listener(preview)
  }
  return { log, gated, views, startStreams, offer, changelogReads: () => changelogReads }
}

/** A page's side of a subscription, checking every diff starts where the state is. */
function follower() {
  const messages: ViewMessage[] = []
  const state = new Map<string, unknown>()
  let offsets: number[] = []
  const onMessage = (message: ViewMessage) => {
    messages.push(message)
    if (message.type === 'snapshot') {
      state.clear()
      for (const [key, value] of snapshotEntries(message)) state.set(key, value)
      offsets = message.offsets
    } else if (message.type === 'diff') {
      expect(message.from).toEqual(offsets)
      for (const [key, value] of message.puts) state.set(key, value)
      for (const key of message.deletes) state.delete(key)
      offsets = message.to
    }
  }
  return { onMessage, messages, state, offsets: () => offsets }
}

const highOf = async (log: Log, topic: string) =>
  (await log.offsets(topic)).reduce((n, p) => n + p.high, 0)

const send = (log: Log, key: string, value: number) =>
  log.producer().send({ topic: 'payments', messages: [{ key, value }] })

test('a view moves once the input is committed and processed, before the changelog commits', async () => {
  const { log, gated, views, startStreams, changelogReads } = await setup()
  await startStreams()
  await send(log, 'ada', 3)
  const page = follower()
  await views.subscribe('totals', page.onMessage)
  await until(() => page.state.get('"ada"') === 3)
  const changelogBefore = await highOf(log, CHANGELOG)
  const readsBefore = changelogReads()

  const gate = gated.holdNext()
  await send(log, 'ada', 4)
  // The input is durable (send resolved); the view shows the batch while its commit is held.
  await until(() => page.state.get('"ada"') === 7)
  expect(gate.held()).toBe(true)
  expect(await highOf(log, CHANGELOG)).toBe(changelogBefore)
  expect(await highOf(log, 'payments')).toBe(2)
  // The page's offsets are those the changelog will have after the commit.
  expect(page.offsets()).toEqual([changelogBefore + 1])

  gate.release()
  await until(async () => (await highOf(log, CHANGELOG)) === changelogBefore + 1)
  // Committed as announced: the mirror recognised it by its tag and read nothing back.
  expect(changelogReads()).toBe(readsBefore)
  await send(log, 'bob', 1)
  await until(() => page.state.get('"bob"') === 1)
  expect(Object.fromEntries(page.state)).toEqual({ '"ada"': 7, '"bob"': 1 })
  expect(page.messages.filter((m) => m.type === 'snapshot')).toHaveLength(1)
})

test('a batch whose commit fails is taken back: the page starts over from the committed state', async () => {
  const { log, gated, views, startStreams } = await setup()
  const streams = await startStreams()
  await send(log, 'ada', 3)
  const page = follower()
  await views.subscribe('totals', page.onMessage)
  await until(() => page.state.get('"ada"') === 3)

  const gate = gated.holdNext()
  await send(log, 'ada', 4)
  await until(() => page.state.get('"ada"') === 7)
  const failed = new Promise((resolve) => streams.onError(resolve))
  gate.fail(new Error('disk on fire'))
  await failed
  // Nothing of the batch was written: the view is back at the committed 3, through a snapshot.
  await until(() => page.messages.filter((m) => m.type === 'snapshot').length === 2)
  expect(page.state.get('"ada"')).toBe(3)
  expect(await highOf(log, CHANGELOG)).toBe(1)
})

test('an instance that dies before its commit: the next one reprocesses, the view ends exact', async () => {
  const { log, gated, views, startStreams } = await setup()
  const first = await startStreams()
  for (const [key, value] of [
    ['ada', 1],
    ['bob', 2],
  ] as const)
    await send(log, key, value)
  const page = follower()
  await views.subscribe('totals', page.onMessage)
  await until(() => page.state.size === 2)

  // The first instance processes a batch, announces it, and never commits (it "died").
  const gate = gated.holdNext()
  await send(log, 'ada', 10)
  await until(() => page.state.get('"ada"') === 11)
  expect(gate.held()).toBe(true)
  const committed = await highOf(log, CHANGELOG)

  // A second instance restores from the changelog (without the batch) and reprocesses its input,
  // with more input arrived meanwhile: its commit is not the one announced.
  await send(log, 'ada', 100)
  await send(log, 'cyd', 5)
  await startStreams()
  await until(async () => (await highOf(log, CHANGELOG)) > committed)
  // The view took the preview back and folded the changelog again: every input counted once.
  await until(() => page.state.get('"ada"') === 111 && page.state.get('"cyd"') === 5)
  expect(Object.fromEntries(page.state)).toEqual({ '"ada"': 111, '"bob"': 2, '"cyd"': 5 })
  expect(page.messages.filter((m) => m.type === 'snapshot').length).toBeGreaterThanOrEqual(2)

  // The dead instance's commit fails at last (fenced in a real deployment): nothing changes.
  const failed = new Promise((resolve) => first.onError(resolve))
  gate.fail(new Error('gone'))
  await failed
  await send(log, 'bob', 1)
  await until(() => page.state.get('"bob"') === 3)
  expect(Object.fromEntries(page.state)).toEqual({ '"ada"': 111, '"bob"': 3, '"cyd"': 5 })
})

test('a preview that does not start where the mirror is, is left to the commit', async () => {
  const { log, views, startStreams, offer } = await setup()
  await startStreams()
  await send(log, 'ada', 3)
  const page = follower()
  await views.subscribe('totals', page.onMessage)
  await until(() => page.state.get('"ada"') === 3)
  // A preview from offsets the mirror has not reached (a writer it does not follow yet).
  offer({
    type: 'processed',
    tag: 'stray:1',
    changelogs: [
      {
        topic: CHANGELOG,
        partition: 0,
        from: 5,
        records: [{ key: '"ada"', value: { value: 999, timestamp: 0 } }],
      },
    ],
  })
  // The next real batch shows; the stray one never did.
  await send(log, 'ada', 1)
  await until(() => page.state.get('"ada"') === 4)
  const shown = page.messages.flatMap((m) => (m.type === 'diff' ? m.puts.map((e) => e[1]) : []))
  expect(shown).not.toContain(999)
  expect(shown).toContain(4)
})
