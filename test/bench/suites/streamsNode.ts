/**
 * The streams suite's Node half: the same workloads as suites/streams.ts on memory storage, run in
 * the runner's own process (loaded through the Vite dev server's ssrLoadModule, which compiles the
 * TypeScript; see suites.mjs).
 */
import { memoryStorage, openLog } from '../../../src/index.ts'
import type { Row, SuiteOptions } from '../protocol.ts'
import { runStreams } from './streamsWorkload.ts'

export function run(o: SuiteOptions, progress: (message: string) => void): Promise<Row[]> {
  return runStreams(
    {
      id: 'streams-node',
      peer: 'duality streams, Node, memory',
      open: async () => openLog({ storage: memoryStorage(), cleaner: false }),
      fresh: (_name, body) => body(),
    },
    o.streamsEvents,
    progress,
  )
}
