/// <reference lib="webworker" />
// The demo's worker: one call serves the log (IndexedDB, shared by every tab of the demo).
import { serve } from '../src/worker/index.ts'

void serve({
  name: 'duality-demo',
  topics: [
    { topic: 'payments', numPartitions: 3 },
    {
      topic: 'last-payment',
      configEntries: [
        { name: 'cleanup.policy', value: 'compact' },
        { name: 'segment.records', value: '20' },
      ],
    },
  ],
})
