import { afterEach, expect, test } from 'vitest'
import {
  KafkaStreams,
  MemoryDatabase,
  memoryStorage,
  memoryTransport,
  openLog,
  Sync,
} from '../../src/index.ts'
import { pendingTopic } from '../../src/worker/views/PendingOverlay.ts'
import { createViewStore } from '../../src/zustand/index.ts'
import { balancesTopology, switchable, syncedWorker } from '../support/syncFixtures.ts'
import { until } from '../support/until.ts'

const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c()
})
const PAYMENTS = { topic: 'payments', numPartitions: 1 }
test('an overlay written before a crash is cleared by the next instance when nothing is pending', async () => {
  const leader = await openLog({ storage: memoryStorage(), cleaner: false })
  await leader.admin().createTopics({ topics: [PAYMENTS] })
  const { net, transport } = switchable(memoryTransport(leader, { pollMs: 30 }), false)
  const database = new MemoryDatabase()
  const open = async () => {
    const worker = await syncedWorker({ name: 'stale', transport, payments: PAYMENTS, database })
    const balances = createViewStore<string, number>(worker.client, 'balances')
    await balances.ready
    return {
      client: worker.client,
      log: worker.served.log,
      balances,
      close: async () => {
        balances.close()
        await worker.close()
      },
    }
  }
  // 1. Offline: a send shows as pending, the overlay record is written.
  const first = await open()
  await first.client
    .producer()
    .send({ topic: 'payments', messages: [{ key: 'p1', value: { user: 'ada', amount: 30 } }] })
  await until(() => first.balances.getState().isPending('ada'))
  await first.close()
  // 2. The instance that pushes, confirms and processes it dies before its overlay write
  //    (simulated: the same work without a PendingOverlay).
  net.online = true
  const log = await openLog({ storage: memoryStorage({ database }), cleaner: false })
  const sync = new Sync(log, { transport, topics: [PAYMENTS] })
  await sync.start()
  const streams = new KafkaStreams(balancesTopology(), log, { applicationId: 'app', pollMs: 20 })
  await streams.start()
  await until(async () => streams.store('balances').get('ada') === 30)
  // Where the overlays are, and how far the dead instances wrote them.
  const overlays = pendingTopic(streams.changelogTopic('balances'))
  const staleEnd = (await log.offsets(overlays))[0]!.high
  const stale = await log.fetch({ topic: overlays, partition: 0, offset: staleEnd - 1 })
  // The last overlay written still says ada's payment is pending.
  expect(stale.records.find((r) => r.offset === staleEnd - 1)?.value).toEqual({
    value: { puts: [['"ada"', 30, 0]], deletes: [] },
    timestamp: 0,
  })
  await streams.close()
  await sync.stop()
  await log.close()
  // 3. The next instance: nothing is pending, its first overlay is empty.
  const second = await open()
  closers.push(second.close)
  // The point: the next instance has written its first overlay. Nothing is pending and nothing
  // is appended after this, so no later recompute writes another: an instance that skipped this
  // first write (it looked the same as "nothing pending") would leave the stale overlay in place
  // for good, and this wait would time out.
  await until(async () => (await second.log.offsets(overlays))[0]!.high > staleEnd)
  const latest = await second.log.fetch({ topic: overlays, partition: 0, offset: staleEnd })
  expect(latest.records.map((r) => r.value)).toEqual([
    { value: { puts: [], deletes: [] }, timestamp: 0 },
  ])
  // And the view follows it: it ends with the confirmed balance and nothing pending.
  await until(() => {
    const state = second.balances.getState()
    return state.confirmed.get('ada') === 30 && !state.isPending('ada') && state.get('ada') === 30
  })
}, 15_000) // room for the waits above to fail with their own message
