/**
 * The worker-client suite's page side: the bench page talks to a served worker
 * (worker/duality.worker.ts, one per database name) through connect(), and runs the send
 * workloads of sends.ts from the main thread. The runner (workerClient.mjs) calls these one at a
 * time, reading the page's main-thread time around each measurement.
 */
import { connect, type Client } from '../../../src/worker/index.ts'
import type { Row, SuiteOptions } from '../protocol.ts'
import { deleteDatabase, row } from '../workload.ts'
import { measureSends, warmUp, workloadTitle, type Sender, type SendWorkload } from './sends.ts'

export const PAGE_PEER = 'duality client in the page (connect)'

let current: { db: string; worker: Worker; client: Client; sender: Sender } | undefined

/** Rejects when the worker fails to load or throws: otherwise calls to it would hang. */
function failures(worker: Worker): Promise<never> {
  return new Promise((_, reject) => {
    worker.addEventListener('error', (event) =>
      reject(new Error(`served worker: ${event.message || 'failed to load'}`)),
    )
  })
}

/** Starts a served worker on a fresh database `db` and warms it up (and the page) on its own topics. */
export async function open(db: string, o: SuiteOptions): Promise<void> {
  if (current) await close()
  await deleteDatabase(db)
  const worker = new Worker(new URL('../../../worker/duality.worker.ts', import.meta.url), {
    type: 'module',
    name: db,
  })
  const client = connect(worker)
  const producer = client.producer()
  const sender: Sender = {
    send: (record) => producer.send(record),
    createTopic: (topic) => client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] }),
  }
  current = { db, worker, client, sender }
  await Promise.race([warmUp(sender, o), failures(worker)])
}

export async function measure(workload: SendWorkload, o: SuiteOptions): Promise<Row> {
  if (!current) throw new Error('open() first')
  const t = await Promise.race([
    measureSends(current.sender, workload, o),
    failures(current.worker),
  ])
  return row(`worker-client.page.${workload}`, PAGE_PEER, workloadTitle(workload, o), t)
}

/** Ends the worker (the log's connection closes with it) and deletes its database. */
export async function close(): Promise<void> {
  if (!current) return
  const { db, worker, client } = current
  current = undefined
  client.close()
  worker.terminate()
  await deleteDatabase(db)
}
