/// <reference lib="webworker" />
import { StreamsBuilder } from '../../../src/index.ts'
import { serve } from '../../../src/worker/index.ts'

// A tab's worker that syncs `payments` with the server named in its worker name (`db|url`) and
// keeps a count of payments per user as a view.
const [name, url] = (self.name || 'sync|http://127.0.0.1:9').split('|') as [string, string]
const builder = new StreamsBuilder()
builder.stream<string, number>('payments').groupByKey().count({ materialized: 'counts' })
await serve({
  name,
  topics: [{ topic: 'payments', numPartitions: 2 }],
  streams: { applicationId: 'app', topology: builder.build() },
  sync: { url, topics: ['payments'] },
})
