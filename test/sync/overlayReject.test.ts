import { afterEach, expect, test } from 'vitest'
import { memoryStorage, memoryTransport, openLog } from '../../src/index.ts'
import { createSyncStore, createViewStore } from '../../src/zustand/index.ts'
import { syncedWorker } from '../support/syncFixtures.ts'
import { until } from '../support/until.ts'

const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c()
})
const PAYMENTS = { topic: 'payments', numPartitions: 1 }

test('a refused record that was the last pending one stops showing as pending', async () => {
  const leader = await openLog({ storage: memoryStorage(), cleaner: false })
  await leader.admin().createTopics({
    topics: [{ ...PAYMENTS, configEntries: [{ name: 'max.message.bytes', value: '300' }] }],
  })
  closers.push(() => leader.close())
  const worker = await syncedWorker({
    name: 'r',
    transport: memoryTransport(leader, { pollMs: 50 }),
    payments: PAYMENTS,
  })
  closers.push(() => worker.close())
  const client = worker.client
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
    messages: [{ key: 'big', value: { user: 'bob', amount: 1, note: 'x'.repeat(500) } }],
  })
  await until(() => notices.length === 1)
  await until(() => sync.getState()?.topics.payments?.pending === 0)
  // The sync status says nothing is pending; the view should agree.
  await new Promise((r) => setTimeout(r, 1000))
  expect(balances.getState().isPending('bob')).toBe(false)
  expect(balances.getState().get('bob')).toBeUndefined()
})
