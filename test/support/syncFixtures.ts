import {
  memoryStorage,
  NetworkError,
  StreamsBuilder,
  type Log,
  type MemoryDatabase,
  type SyncTransport,
  type TopicSpec,
} from '../../src/index.ts'
import { connect, serve } from '../../src/worker/index.ts'

/** Balances per user from `payments` ({ user, amount }), in the store 'balances'. */
export function balancesTopology() {
  const builder = new StreamsBuilder()
  builder
    .stream<string, { user: string; amount: number }>('payments')
    .groupBy((_key, p) => p.user)
    .aggregate(
      () => 0,
      (_user, p, total) => total + p.amount,
      { materialized: 'balances' },
    )
  return builder.build()
}

/** A transport with a switch: offline, every call fails as a network failure would. */
export function switchable(inner: SyncTransport, online = true) {
  const net = { online }
  const gate = () => {
    if (!net.online) throw new NetworkError('offline (test)')
  }
  const transport: SyncTransport = {
    describeTopic: async (t, s) => (gate(), inner.describeTopic(t, s)),
    read: async (t, p, o, opts) => (gate(), inner.read(t, p, o, opts)),
    append: async (t, p, r, pr, s) => (gate(), inner.append(t, p, r, pr, s)),
  }
  return { net, transport }
}

/**
 * A worker served in this process (memory storage behind a MessageChannel) that syncs `payments`
 * through `transport` and runs the balances topology, with a client connected to it.
 */
export async function syncedWorker(options: {
  name: string
  transport: SyncTransport
  payments: TopicSpec
  database?: MemoryDatabase
}) {
  const { port1, port2 } = new MessageChannel()
  const served = await serve({
    name: options.name,
    storage: memoryStorage(options.database ? { database: options.database } : {}),
    endpoint: port1,
    groups: false,
    cleaner: false,
    topics: [options.payments],
    streams: { applicationId: 'app', topology: balancesTopology(), pollMs: 20 },
    sync: { topics: ['payments'], transport: options.transport },
  })
  const client = connect(port2)
  return {
    served,
    client,
    async close() {
      client.close()
      await served.close()
      port1.close()
      port2.close()
    },
  }
}

/** Every record of a topic as `offset:key=value` (value as JSON), partition by partition. */
export async function dumpTopic(log: Log, topic: string): Promise<string[]> {
  const out: string[] = []
  for (const { partition, high } of await log.offsets(topic)) {
    for (let offset = 0; offset < high;) {
      const chunk = await log.fetch<unknown, string>({ topic, partition, offset })
      for (const r of chunk.records) out.push(`${r.offset}:${r.key}=${JSON.stringify(r.value)}`)
      if (chunk.nextOffset <= offset) break
      offset = chunk.nextOffset
    }
  }
  return out
}
