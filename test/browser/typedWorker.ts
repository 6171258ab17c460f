/// <reference lib="webworker" />
// A worker serving a typed topic over IndexedDB, as an app's worker file would.
import { serve } from '../../src/worker/index.ts'
import { payments } from './typedTopic.ts'

void serve({
  name: self.name,
  schemas: [payments],
  topics: [{ topic: 'payments', numPartitions: 1 }],
})
