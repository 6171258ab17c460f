/**
 * The worker-client suite's baseline, in a worker of the bench page: the same send workloads as the
 * page runs through connect() (sends.ts), on the worker's own Log (openLog on IndexedDB, as in the
 * duality suite), on a fresh database. One call is one repeat; the runner interleaves them with the
 * page's runs.
 */
import { openLog } from '../../../src/index.ts'
import { idbStorage } from '../../../src/storage/idb/index.ts'
import type { Row, SuiteOptions } from '../protocol.ts'
import { row, withFreshDatabase } from '../workload.ts'
import { measureSends, warmUp, workloadTitle, type Sender, type SendWorkload } from './sends.ts'

export const BASELINE_PEER = 'duality in the worker (baseline)'
const WORKLOADS: SendWorkload[] = ['send@1-concurrent', 'send@1000']

export async function run(o: SuiteOptions, progress: (message: string) => void): Promise<Row[]> {
  const name = 'bench-worker-client-baseline'
  return withFreshDatabase(name, async () => {
    const log = await openLog({ storage: await idbStorage({ name }) })
    try {
      const producer = log.producer()
      const sender: Sender = {
        send: (record) => producer.send(record),
        createTopic: (topic) => log.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] }),
      }
      await warmUp(sender, o)
      const rows: Row[] = []
      for (const w of WORKLOADS) {
        progress(`in-worker ${w}`)
        const t = await measureSends(sender, w, o)
        rows.push(row(`worker-client.in-worker.${w}`, BASELINE_PEER, workloadTitle(w, o), t))
      }
      return rows
    } finally {
      await log.close()
    }
  })
}
