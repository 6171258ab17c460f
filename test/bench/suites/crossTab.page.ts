/**
 * The cross-tab suite's page side, loaded in each of two tabs of one browser profile: every tab
 * starts its own served worker on the same database (worker/duality.worker.ts), as an app does.
 * Tab A sends one record at a time carrying its send-start time; tab B's consumer stamps each on
 * arrival. Both clocks are `performance.timeOrigin + performance.now()`.
 */
import { connect, type Client, type ClientConsumer } from '../../../src/worker/index.ts'
import { deleteDatabase } from '../workload.ts'

/** One delivered record: its sample index and the send-start (tab A) and receive (tab B) times. */
export interface Sample {
  i: number
  sentAt: number
  receivedAt: number
}

const now = () => performance.timeOrigin + performance.now()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let tab: { worker: Worker; client: Client; failed: Promise<never> } | undefined
let consumer: ClientConsumer | undefined
let received: Sample[] = []

function opened() {
  if (!tab) throw new Error('open() first')
  return tab
}

/** Races a call to the worker against the worker failing, which would leave the call hanging. */
const guarded = <T>(call: Promise<T>) => Promise.race([call, opened().failed])

export async function open(db: string): Promise<void> {
  const worker = new Worker(new URL('../../../worker/duality.worker.ts', import.meta.url), {
    type: 'module',
    name: db,
  })
  const failed = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (event) =>
      reject(new Error(`served worker: ${event.message || 'failed to load'}`)),
    )
  })
  failed.catch(() => undefined)
  tab = { worker, client: connect(worker), failed }
  await guarded(tab.client.admin().listTopics())
}

export async function createTopic(topic: string): Promise<void> {
  await guarded(
    opened()
      .client.admin()
      .createTopics({ topics: [{ topic, numPartitions: 1 }] }),
  )
}

/** Starts a consumer in this tab; each record's value is `{ i, sentAt }` from send(). */
export async function consume(topic: string, groupId: string): Promise<void> {
  consumer = opened().client.consumer({ groupId, maxWaitTimeInMs: 5000 })
  await guarded(consumer.subscribe({ topics: [topic], fromBeginning: true }))
  await guarded(
    consumer.run({
      eachMessage: async ({ message }) => {
        const receivedAt = now()
        const { i, sentAt } = message.value as { i: number; sentAt: number }
        received.push({ i, sentAt, receivedAt })
      },
    }),
  )
}

/** Waits until this tab's consumer owns a partition. */
export async function assigned(timeoutMs: number): Promise<void> {
  const start = performance.now()
  while ((await guarded(consumer!.assignment())).length === 0) {
    if (performance.now() - start > timeoutMs) throw new Error(`no assignment in ${timeoutMs} ms`)
    await sleep(20)
  }
}

/**
 * Sends samples `from`..`from + count - 1` one at a time, each awaited, then pauses 10-20 ms.
 * Returns the acknowledgement times (send start to resolved promise), in ms.
 */
export async function send(topic: string, from: number, count: number): Promise<number[]> {
  const producer = opened().client.producer()
  const acks: number[] = []
  for (let i = from; i < from + count; i++) {
    const sentAt = now()
    await guarded(producer.send({ topic, messages: [{ value: { i, sentAt } }] }))
    acks.push(now() - sentAt)
    await sleep(10 + ((i * 7) % 11)) // spread over 10-20 ms, not in step with any timer of ours
  }
  return acks
}

/** The samples received so far (cleared): waits up to `timeoutMs` for `count` of them. */
export async function take(count: number, timeoutMs: number): Promise<Sample[]> {
  const start = performance.now()
  while (received.length < count && performance.now() - start < timeoutMs) await sleep(20)
  const out = received
  received = []
  return out
}

/**
 * Every tab answers clock pings on a channel of its own (not the log's), NTP-style: the other
 * tab's time read between sending a ping and receiving its answer.
 */
const clockChannel = new BroadcastChannel('duality-bench:cross-tab-clock')
const pongs = new Map<number, (at: number) => void>()
clockChannel.onmessage = ({
  data,
}: MessageEvent<{ type: 'ping' | 'pong'; id: number; at: number }>) => {
  if (data.type === 'ping') clockChannel.postMessage({ type: 'pong', id: data.id, at: now() })
  else pongs.get(data.id)?.(data.at)
}

/**
 * How far the other tab's clock is ahead of this one's: keeps the tightest of `tries` pings.
 * Returns the offset and its uncertainty (half the round trip), in ms.
 */
export async function clockOffset(tries: number): Promise<{ offset: number; error: number }> {
  let best = { offset: 0, error: Infinity }
  for (let id = 0; id < tries; id++) {
    const answer = new Promise<number>((resolve) => pongs.set(id, resolve))
    const sent = now()
    clockChannel.postMessage({ type: 'ping', id, at: sent })
    const at = await Promise.race([answer, sleep(1000).then(() => Number.NaN)])
    const back = now()
    pongs.delete(id)
    if (Number.isNaN(at)) throw new Error('the other tab did not answer a clock ping')
    const error = (back - sent) / 2
    if (error < best.error) best = { offset: at - (sent + back) / 2, error }
  }
  return best
}

/** Stops this tab's consumer and worker (which closes its connection to the database). */
export async function close(): Promise<void> {
  if (!tab) return
  const { worker, client } = tab
  await consumer?.stop().catch(() => undefined)
  consumer = undefined
  tab = undefined
  client.close()
  worker.terminate()
}

/** Once every tab has closed: a delete waits for all connections to the database to close. */
export { deleteDatabase }
