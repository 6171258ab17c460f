import { afterEach, expect, test } from 'vitest'
import { QuotaExceededError } from '../../src/index.ts'
import { connect } from '../../src/worker/index.ts'
import { until } from '../support/until.ts'
import { uniqueName } from './workerTabs.ts'

// serve({ storage: { persist: true } }) and the storage status, in real Chromium: the page asks
// the browser to persist (workers cannot), the worker reports what the browser says (persisted,
// estimate()'s usage and quota), and a send the disk refuses is a typed error, writes nothing,
// and shows in the status until a send succeeds.
const workers: Worker[] = []
const realPersist = StorageManager.prototype.persist
afterEach(() => {
  for (const w of workers.splice(0)) w.terminate()
  StorageManager.prototype.persist = realPersist
})

const spawn = (name: string, persist: boolean) => {
  const worker = new Worker(new URL('./storageWorker.ts', import.meta.url), {
    type: 'module',
    name: `${name}|${persist ? 'persist' : 'default'}`,
  })
  workers.push(worker)
  return connect(worker)
}

/** Counts the page's calls of navigator.storage.persist() (and makes them as they are). */
function countPersistCalls() {
  const calls = { count: 0 }
  StorageManager.prototype.persist = function (this: StorageManager) {
    calls.count++
    return realPersist.call(this)
  }
  return calls
}

test('storage: { persist: true } has the page ask the browser; the status says what it answered', async () => {
  const calls = countPersistCalls()
  const client = spawn(uniqueName('persist'), true)
  await until(() => calls.count === 1)
  const { storage } = await client.status()
  expect(storage.persisted).toBe(await navigator.storage.persisted())
  const estimate = await navigator.storage.estimate()
  expect(storage.quota).toBeGreaterThan(0)
  expect(storage.quota).toBe(estimate.quota)
  expect(storage.usage).toBeGreaterThanOrEqual(0)
  expect(storage.quotaExceeded).toBeNull()
})

test('without it, the page does not ask', async () => {
  const calls = countPersistCalls()
  const client = spawn(uniqueName('no-persist'), false)
  // Once the worker answers, connect() has had its answer to whether to ask.
  expect((await client.status()).storage.persisted).toBe(await navigator.storage.persisted())
  await new Promise((resolve) => setTimeout(resolve, 100))
  expect(calls.count).toBe(0)
})

test('a full disk fails the send with QuotaExceededError, writes nothing, and shows until a send succeeds', async () => {
  const name = uniqueName('full')
  const client = spawn(name, false)
  await client.admin().createTopics({ topics: [{ topic: 'notes', numPartitions: 1 }] })
  const producer = client.producer()
  await producer.send({ topic: 'notes', messages: [{ value: 'kept' }] })
  const disk = new BroadcastChannel(`${name}:disk`)
  disk.postMessage('full')
  // The worker hears the channel in a task of its own: until it has, sends still succeed.
  let refused: unknown = null
  let attempt = 0
  await until(async () => {
    attempt++
    const messages = [{ value: `attempt ${attempt}` }, { value: `attempt ${attempt}, second` }]
    try {
      await producer.send({ topic: 'notes', messages })
      return false
    } catch (error) {
      refused = error
      return true
    }
  })
  expect(refused).toBeInstanceOf(QuotaExceededError)
  const full = (await client.status()).storage.quotaExceeded
  expect(full?.message).toMatch(/quota/i)
  disk.postMessage('ok')
  await until(async () => {
    try {
      await producer.send({ topic: 'notes', messages: [{ value: 'after' }] })
      return true
    } catch {
      return false
    }
  })
  expect((await client.status()).storage.quotaExceeded).toBeNull()
  // Only whole sends were written: none of the refused one.
  const { records } = await client.fetch({ topic: 'notes', partition: 0, offset: 0 })
  const values = records.map((r) => r.value)
  expect(values[0]).toBe('kept')
  expect(values.at(-1)).toBe('after')
  expect(values).not.toContain(`attempt ${attempt}`)
  expect(values).not.toContain(`attempt ${attempt}, second`)
  // Every send before the refused one was written whole.
  expect(values).toHaveLength(1 + 2 * (attempt - 1) + 1)
  disk.close()
})
