/**
 * The send workloads of the worker-client suite, one definition for its two sides so that they
 * measure the same thing: the page through connect() (workerClient.page.ts) and a worker on its own
 * Log (workerClientBaseline.ts). The events, batches and windows are the duality suite's.
 */
import type { ProducerRecord } from '../../../src/index.ts'
import type { SuiteOptions } from '../protocol.ts'
import type { Item, Timing } from '../workload.ts'
import { concurrently, makeItems, timedLoop } from '../workload.ts'

/** What the workloads need of a producer, in the page or in the worker. */
export interface Sender {
  send(record: ProducerRecord): Promise<unknown>
  createTopic(topic: string): Promise<unknown>
}

/** `send@1-concurrent`: windows of single-message sends fired at once; `send@1000`: awaited batches. */
export type SendWorkload = 'send@1-concurrent' | 'send@1000'

export const workloadTitle = (w: SendWorkload, o: SuiteOptions) =>
  w === 'send@1000' ? 'send, batch 1000' : `send, batch 1, ${o.window} concurrent`

const message = ({ key, value, timestamp }: Item) => ({ key, value, timestamp })

/**
 * Runs one workload on a fresh topic (one partition) of the sender's log: `o.dualityBatch1Events`
 * events for batch 1, `o.events` for batch 1000, each stopping at its time budget.
 */
export async function measureSends(
  s: Sender,
  workload: SendWorkload,
  o: SuiteOptions,
  topic: string = workload === 'send@1000' ? 'batch-1000' : 'batch-1',
): Promise<Timing> {
  await s.createTopic(topic)
  const send = (items: Item[]) => s.send({ topic, messages: items.map(message) })
  if (workload === 'send@1000') {
    const items = makeItems(o.events)
    return timedLoop(items.length, 1000, o.budgetMs, (from, count) =>
      send(items.slice(from, from + count)),
    )
  }
  const items = makeItems(o.dualityBatch1Events)
  return timedLoop(items.length, o.window, o.batch1BudgetMs, (from, count) =>
    concurrently(items, from, count, (item) => send([item])),
  )
}

/**
 * Both workloads, smaller, on topics of their own, so that the JIT (of the page and of the worker:
 * structured clone, comlink, the producer) and the database are warm before measuring.
 */
export async function warmUp(s: Sender, o: SuiteOptions): Promise<void> {
  const small = {
    ...o,
    events: Math.min(o.events, 10_000),
    dualityBatch1Events: Math.min(o.dualityBatch1Events, 5000),
  }
  await measureSends(s, 'send@1000', small, 'warm-up-1000')
  await measureSends(s, 'send@1-concurrent', small, 'warm-up-1')
}
