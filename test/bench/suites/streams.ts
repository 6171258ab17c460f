/**
 * Streams replay throughput in the bench's worker, on IndexedDB (on disk unless --in-memory): see
 * streamsWorkload.ts. The same workloads run in Node on memory storage (streamsNode.ts).
 */
import { openLog } from '../../../src/index.ts'
import { idbStorage } from '../../../src/storage/idb/index.ts'
import type { Row, SuiteOptions } from '../protocol.ts'
import { withFreshDatabase } from '../workload.ts'
import { runStreams } from './streamsWorkload.ts'

export function run(o: SuiteOptions, progress: (message: string) => void): Promise<Row[]> {
  return runStreams(
    {
      id: 'streams',
      peer: 'duality streams, worker, IndexedDB',
      open: async (name) => openLog({ storage: await idbStorage({ name }), cleaner: false }),
      fresh: withFreshDatabase,
    },
    o.streamsEvents,
    progress,
  )
}
