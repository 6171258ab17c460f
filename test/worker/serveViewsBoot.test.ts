import { afterEach, expect, test } from 'vitest'
import { memoryStorage, type LogStorage } from '../../src/index.ts'
import { connect, serve } from '../../src/worker/index.ts'
import { createViewStore } from '../../src/zustand/index.ts'
import { paymentTotals } from '../support/topologies.ts'
import { until } from '../support/until.ts'

// A page's views boot from the changelogs (and their snapshots) as soon as the topics exist: they
// do not wait for this tab's topology to restore its stores and start, which with a large store
// took longer than the view's own boot. Here the topology's start is held (its read of the
// consumer offsets, which only it makes) and the view must arrive all the same.

const closers: (() => unknown)[] = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

/** One storage that outlives each serve() on it, whose reads of 'offsets' wait while `held`. */
function heldStorage() {
  const inner = memoryStorage()
  let release = () => {}
  let gate: Promise<void> | null = null
  let offsetReads = 0
  const storage: LogStorage = {
    kind: inner.kind,
    async read(stores, body) {
      if (stores.includes('offsets')) {
        offsetReads++
        if (gate) await gate
      }
      return inner.read(stores, body)
    },
    write: (stores, body, options) => inner.write(stores, body, options),
    close: async () => {},
  }
  return {
    storage,
    hold() {
      gate = new Promise<void>((resolve) => (release = resolve))
    },
    release() {
      gate = null
      release()
    },
    offsetReads: () => offsetReads,
  }
}

async function boot(storage: LogStorage) {
  const { port1, port2 } = new MessageChannel()
  const served = serve({
    name: 'views-boot',
    storage,
    endpoint: port1,
    groups: false,
    cleaner: false,
    topics: [{ topic: 'payments', numPartitions: 1 }],
    streams: { applicationId: 'app', topology: paymentTotals(), pollMs: 20 },
  })
  const client = connect(port2)
  closers.push(() => {
    client.close()
    port1.close()
    port2.close()
  })
  return { served, client }
}

/** A first boot: 30 payments over 3 keys, processed and committed, then closed. */
async function seed(storage: LogStorage) {
  const first = await boot(storage)
  const served = await first.served
  const messages = Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 3}`, value: 1 }))
  await served.log.producer().send({ topic: 'payments', messages })
  await until(async () => {
    const [c] = await served.log.admin().fetchOffsets({ groupId: 'app', topics: ['payments'] })
    return c!.partitions[0]!.offset === 30
  })
  await served.close()
}

test("a view boots while the tab's topology has not started (its offsets read held)", async () => {
  const disk = heldStorage()
  await seed(disk.storage)

  // Second boot with the topology's start held at its offsets read.
  disk.hold()
  const second = await boot(disk.storage)
  let started = false
  void second.served.then(() => (started = true))
  const view = createViewStore<string, number>(second.client, 'totals')
  closers.push(() => view.close())
  await until(() => view.getState().size === 3)
  expect(['k0', 'k1', 'k2'].map((k) => view.getState().get(k))).toEqual([10, 10, 10])
  // The topology is still waiting: the view did not come from it.
  expect(disk.offsetReads()).toBeGreaterThan(0)
  expect(started).toBe(false)
  disk.release()
  const running = await second.served
  closers.push(() => running.close())
  // And once it runs, the view follows it as before.
  await running.log.producer().send({ topic: 'payments', messages: [{ key: 'k0', value: 5 }] })
  await until(() => view.getState().get('k0') === 15)
})

test('the topology starts after the views a page opened during boot have sent their snapshots', async () => {
  const disk = heldStorage()
  await seed(disk.storage)

  // What the worker posts (comlink's call of the page's listener carries the view's snapshot),
  // and when the topology's start first reads its consumer offsets, in one sequence.
  const order: string[] = []
  const post = MessagePort.prototype.postMessage
  MessagePort.prototype.postMessage = function (this: MessagePort, ...args: unknown[]) {
    const message = args[0] as { argumentList?: { value?: { type?: string } }[] } | undefined
    if (message?.argumentList?.[0]?.value?.type === 'snapshot') order.push('view snapshot posted')
    return (post as (...a: unknown[]) => void).apply(this, args)
  } as typeof post
  closers.push(() => (MessagePort.prototype.postMessage = post))
  const storage: LogStorage = {
    ...disk.storage,
    read(stores, body) {
      if (stores.includes('offsets')) order.push('offsets read')
      return disk.storage.read(stores, body)
    },
  }
  // The page subscribes at once, before the worker has opened its database (as a page does).
  const second = await boot(storage)
  const view = createViewStore<string, number>(second.client, 'totals')
  closers.push(() => view.close())
  const running = await second.served
  closers.push(() => running.close())
  await until(() => view.getState().size === 3)
  expect(order.slice(0, 2)).toEqual(['view snapshot posted', 'offsets read'])
})
