import { afterEach, expect, test } from 'vitest'
import { memoryStorage, memoryTransport, openLog, type TopicSpec } from '../../src/index.ts'
import { createSyncStore, createViewStore } from '../../src/zustand/index.ts'
import { switchable, syncedWorker } from '../support/syncFixtures.ts'
import { until } from '../support/until.ts'

// The whole chain in one process: a server log, a worker (serve on memory storage behind a
// MessageChannel) that syncs `payments` and runs a topology, and a page-side zustand store.

const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

const PAYMENTS = { topic: 'payments', numPartitions: 2 }

async function setup(serverTopic: TopicSpec = PAYMENTS) {
  const leader = await openLog({ storage: memoryStorage(), cleaner: false })
  await leader.admin().createTopics({ topics: [serverTopic] })
  closers.push(() => leader.close())
  const { net, transport } = switchable(memoryTransport(leader, { pollMs: 50 }), false)
  const worker = await syncedWorker({ name: 'optimistic', transport, payments: PAYMENTS })
  closers.push(() => worker.close())
  return { leader, net, client: worker.client, served: worker.served }
}

test('a payment sent offline shows at once as pending, then as confirmed once the server has it', async () => {
  const { leader, net, client } = await setup()
  const balances = createViewStore<string, number>(client, 'balances')
  closers.push(() => balances.close())
  await balances.ready
  const sync = createSyncStore(client)
  closers.push(() => sync.close())
  await sync.ready
  await client.producer().send({
    topic: 'payments',
    messages: [{ key: 'p1', value: { user: 'ada', amount: 30 } }],
  })
  // Offline: the optimistic state has it, the confirmed one does not.
  await until(() => balances.getState().get('ada') === 30)
  const offline = balances.getState()
  expect(offline.isPending('ada')).toBe(true)
  expect(offline.pendingCount).toBe(1)
  expect(offline.confirmed.get('ada')).toBeUndefined()
  await until(() => sync.getState()?.topics.payments?.pending === 1)
  expect(sync.getState()!.connection).toBe('offline')

  // Another device's payment reaches the server first; ours goes after it when we reconnect.
  await leader.producer().send({
    topic: 'payments',
    messages: [{ key: 'p0', value: { user: 'ada', amount: 5 }, partition: 0 }],
  })
  net.online = true
  await until(async () => {
    const s = balances.getState()
    return s.confirmed.get('ada') === 35 && s.pendingCount === 0
  })
  expect(balances.getState().get('ada')).toBe(35)
  await until(() => sync.getState()?.topics.payments?.pending === 0)
  expect(sync.getState()!.connection).toBe('online')
  // The confirmed view is a fold of the server's records, in the server's order.
  const onServer = await leader.fetch({ topic: 'payments', partition: 0, offset: 0 })
  expect(
    onServer.records.length +
      (await leader.fetch({ topic: 'payments', partition: 1, offset: 0 })).records.length,
  ).toBe(2)
})

test('a payment the server refuses leaves the outbox: the page hears why, the pending state drops it', async () => {
  const { net, client } = await setup({
    ...PAYMENTS,
    configEntries: [{ name: 'max.message.bytes', value: '300' }],
  })
  net.online = true
  const balances = createViewStore<string, number>(client, 'balances')
  const sync = createSyncStore(client)
  closers.push(() => balances.close())
  closers.push(() => sync.close())
  await balances.ready
  await sync.ready
  const notices: unknown[] = []
  sync.onNotice((n) => notices.push(n))
  await client.producer().send({
    topic: 'payments',
    messages: [
      { key: 'big', value: { user: 'bob', amount: 1, note: 'x'.repeat(500) }, partition: 0 },
      { key: 'ok', value: { user: 'bob', amount: 2 }, partition: 0 },
    ],
  })
  await until(() => notices.length === 1 && balances.getState().confirmed.get('bob') === 2)
  expect(notices[0]).toMatchObject({
    type: 'rejected',
    topic: 'payments',
    partition: 0,
    offset: 0,
    error: { code: 'MESSAGE_TOO_LARGE' },
  })
  await until(() => sync.getState()?.topics.payments?.pending === 0)
  await until(() => balances.getState().pendingCount === 0)
  expect(balances.getState().get('bob')).toBe(2)
})
