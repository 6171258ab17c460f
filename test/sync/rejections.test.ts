import { afterEach, expect, test } from 'vitest'
import {
  httpTransport,
  MemoryDatabase,
  memoryStorage,
  openLog,
  outboxTopic,
  Sync,
  type Rejection,
  type SyncEvent,
} from '../../src/index.ts'
import { readSyncState } from '../../src/sync/syncState.ts'
import { policyServer } from '../support/policyServer.ts'
import { until } from '../support/until.ts'

// The fate of a synced send the server refuses for good, against the real server over HTTP: it
// leaves the outbox as a rejection (record + server's reason) that outlives a restart until the
// app dismisses it, is never sent again, and the records around it go on as if it were not there.

const closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

/** The policy server (`Bearer t`, appends refused while `policy.appends` is false), counting append requests. */
async function server(
  configEntries: { name: string; value: string }[] = [],
  longPollTimeoutMs?: number,
) {
  const { running, policy: refusing } = await policyServer({
    numPartitions: 1,
    configEntries,
    ...(longPollTimeoutMs === undefined ? {} : { longPollTimeoutMs }),
  })
  closers.push(() => running.close())
  const policy = Object.assign(refusing, { appendRequests: 0 })
  const counting: typeof fetch = (input, init) => {
    if (init?.method === 'POST') policy.appendRequests++
    return fetch(input, init)
  }
  const transport = httpTransport({ url: running.url, token: () => 't', fetch: counting })
  return { running, policy, transport }
}

async function device(
  transport: ReturnType<typeof httpTransport>,
  database = new MemoryDatabase(),
) {
  const log = await openLog({ storage: memoryStorage({ database }), cleaner: false })
  const sync = new Sync(log, {
    transport,
    topics: [{ topic: 'payments', numPartitions: 1 }],
    producerIdPrefix: 'u',
  })
  const events: SyncEvent[] = []
  sync.subscribe((event) => events.push(event))
  await sync.start()
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await sync.stop()
    await log.close()
  }
  closers.push(stop)
  return { log, sync, events, database, stop }
}

/** The keys of the server's partition, read over HTTP as sync reads them. */
const onServer = async (transport: ReturnType<typeof httpTransport>) => {
  const chunk = await transport.read('payments', 0, 0, { live: false })
  return chunk.records.map((r) => r.key)
}

/** A device that sent k1..k3 while the server refused appends, once all three are rejections. */
async function refusedThree(
  policy: { appends: boolean },
  transport: ReturnType<typeof httpTransport>,
) {
  policy.appends = false
  const a = await device(transport)
  await a.sync.producer().send({
    topic: 'payments',
    messages: [1, 2, 3].map((n) => ({ key: `k${n}`, value: n })),
  })
  await until(async () => (await a.sync.rejections('payments')).length === 3)
  return a
}

const settled = (sync: Sync) => async () => (await sync.status()).topics.payments!.pending === 0

test('403 from authorize: the whole batch becomes rejections in one request, never retried', async () => {
  const { policy, transport } = await server()
  policy.appends = false
  const a = await device(transport)
  await a.sync.producer().send({
    topic: 'payments',
    messages: [1, 2, 3].map((n) => ({ key: `k${n}`, value: { n } })),
  })
  await until(settled(a.sync))
  const rejections = (await a.sync.status()).topics.payments!.rejections
  expect(rejections.map((r) => [r.offset, r.key, r.value, r.error.code])).toEqual([
    [0, 'k1', '{"n":1}', 'TOPIC_AUTHORIZATION_FAILED'],
    [1, 'k2', '{"n":2}', 'TOPIC_AUTHORIZATION_FAILED'],
    [2, 'k3', '{"n":3}', 'TOPIC_AUTHORIZATION_FAILED'],
  ])
  expect(rejections[0]!.error.message).toContain('u may not append payments')
  // Refused as a batch, not narrowed down record by record, and not tried again.
  expect(policy.appendRequests).toBe(1)
  const notices = a.events.filter((e) => e.type === 'rejected')
  expect(notices).toHaveLength(1)
  expect(notices[0]).toMatchObject({ topic: 'payments', partition: 0, offset: 0 })
  await new Promise((resolve) => setTimeout(resolve, 1500))
  expect(policy.appendRequests).toBe(1)

  // Allowed again: the next send goes through; the refused ones stay refused.
  policy.appends = true
  await a.sync.producer().send({ topic: 'payments', messages: [{ key: 'k4', value: 4 }] })
  await until(async () => (await onServer(transport)).length === 1)
  expect(await onServer(transport)).toEqual(['k4'])
  expect((await a.sync.rejections('payments')).map((r) => r.key)).toEqual(['k1', 'k2', 'k3'])
})

test('400 and 413: only the refused record leaves; the records around it reach the server in order', async () => {
  const { transport } = await server([
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'max.message.bytes', value: '300' },
  ])
  const a = await device(transport)
  await a.sync.producer().send({
    topic: 'payments',
    messages: [
      { key: 'a', value: 1 },
      // A compacted topic refuses a keyless record (400) ...
      { key: null, value: 2 },
      { key: 'b', value: 3 },
      // ... and the topic's max.message.bytes one too large (413).
      { key: 'big', value: 'x'.repeat(1000) },
      { key: 'c', value: 5 },
    ],
  })
  await until(settled(a.sync))
  await until(async () => (await onServer(transport)).length === 3)
  expect(await onServer(transport)).toEqual(['a', 'b', 'c'])
  const rejections = await a.sync.rejections('payments')
  expect(rejections.map((r) => [r.offset, r.key, r.error.code, r.error.name])).toEqual([
    [1, null, 'INVALID_RECORD', 'InvalidRecordError'],
    [3, 'big', 'MESSAGE_TOO_LARGE', 'RecordTooLargeError'],
  ])
  const notices = a.events.filter((e) => e.type === 'rejected')
  expect(notices.map((e) => (e as { offset: number }).offset)).toEqual([1, 3])
})

test('rejections outlive a restart until dismissed, one by one or all', async () => {
  const { policy, transport } = await server()
  const a = await refusedThree(policy, transport)
  await a.stop()

  const again = await device(transport, a.database)
  const kept = await again.sync.rejections()
  expect(kept.map((r) => r.key)).toEqual(['k1', 'k2', 'k3'])
  // Still not pending, still not pushed (the sequence the first run reached holds).
  expect((await again.sync.status()).topics.payments!.pending).toBe(0)
  await again.sync.dismissRejections('payments', [kept[1]!])
  expect((await again.sync.rejections('payments')).map((r) => r.key)).toEqual(['k1', 'k3'])
  // The status follows the dismissal.
  await until(() => {
    const last = again.events.filter((e) => e.type === 'status').at(-1) as
      { status: { topics: Record<string, { rejections: Rejection[] }> } } | undefined
    return last?.status.topics.payments!.rejections.length === 2
  })
  await again.sync.dismissRejections('payments')
  expect(await again.sync.rejections('payments')).toEqual([])
  // The outbox itself is untouched: the record stays in the device's history of sends.
  expect((await again.log.offsets(outboxTopic('payments')))[0]!.high).toBe(3)
  await expect(again.sync.rejections('orders')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
})

test('refusals at the head of the outbox are stepped over: the device does not remember them forever', async () => {
  // The mark steps over them when a live read comes back empty: here after half a second.
  const { policy, transport } = await server([], 500)
  const a = await refusedThree(policy, transport)
  // Nothing of ours comes back from the server, yet the confirmed mark passes the refusals ...
  await until(async () => (await readSyncState(a.log, 'payments', 0)).confirmed === 3, 10_000)
  // ... and the next push forgets them (they are behind the confirmed mark).
  policy.appends = true
  await a.sync.producer().send({ topic: 'payments', messages: [{ key: 'k4', value: 4 }] })
  await until(async () => (await readSyncState(a.log, 'payments', 0)).confirmed === 4, 10_000)
  await until(async () => (await readSyncState(a.log, 'payments', 0)).push?.rejected.length === 0)
  expect((await a.sync.status()).topics.payments!.pending).toBe(0)
  expect(await a.sync.rejections('payments')).toHaveLength(3)
}, 20_000)
