/**
 * The send workloads of the worker-client suite, one definition for its two sides so that they
 * measure the same thing: the page through connect() (workerClient.page.ts) and a worker on its own
 * Log (workerClientBaseline.ts). The events, budgets and windows are those of `o.workloads`, as
 * for every peer of the other suites.
 */
import type { ProducerRecord } from '../../../src/index.ts'
import type { SuiteOptions } from '../protocol.ts'
import { type Item, type Timing, concurrently, makeItems, timedLoop } from '../workload.ts'

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
 * Runs one workload on a fresh topic (one partition) of the sender's log: `o.workloads[workload]`'s
 * events, stopping at its budget.
 */
export async function measureSends(
  s: Sender,
  workload: SendWorkload,
  o: SuiteOptions,
  topic: string = workload === 'send@1000' ? 'batch-1000' : 'batch-1',
): Promise<Timing> {
  await s.createTopic(topic)
  const send = (items: Item[]) => s.send({ topic, messages: items.map(message) })
  const { events, budgetMs } = o.workloads[workload]
  const items = makeItems(events)
  if (workload === 'send@1000') {
    return timedLoop(items.length, 1000, budgetMs, (from, count) =>
      send(items.slice(from, from + count)),
    )
  }
  return timedLoop(items.length, o.window, budgetMs, (from, count) =>
    concurrently(items, from, count, (item) => send([item])),
  )
}

/**
 * Both workloads, smaller, on topics of their own, so that the JIT (of the page and of the worker:
 * structured clone, comlink, the producer) and the database are warm before measuring.
 */
export async function warmUp(s: Sender, o: SuiteOptions): Promise<void> {
  const w = o.workloads
  const at = (id: SendWorkload, most: number) => ({
    ...w[id],
    events: Math.min(w[id].events, most),
  })
  const small = {
    ...o,
    workloads: {
      ...w,
      'send@1000': at('send@1000', 10_000),
      'send@1-concurrent': at('send@1-concurrent', 5000),
    },
  }
  await measureSends(s, 'send@1000', small, 'warm-up-1000')
  await measureSends(s, 'send@1-concurrent', small, 'warm-up-1')
}
