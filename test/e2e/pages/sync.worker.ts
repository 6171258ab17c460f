/// <reference lib="webworker" />
import { StreamsBuilder } from '../../../src/index.ts'
import { serve } from '../../../src/worker/index.ts'

// A tab's worker that syncs `payments` with the server named in its worker name (`db|url`, or
// `db|url|token` for a server that authenticates: the token is user u's) and keeps a count of
// payments per user as a view.
const [name, url, token] = (self.name || 'sync|http://127.0.0.1:9').split('|') as [
  string,
  string,
  string | undefined,
]
const builder = new StreamsBuilder()
builder.stream<string, number>('payments').groupByKey().count({ materialized: 'counts' })
await serve({
  name,
  topics: [{ topic: 'payments', numPartitions: 2 }],
  streams: { applicationId: 'app', topology: builder.build() },
  sync: {
    url,
    topics: ['payments'],
    ...(token ? { token: () => token, producerIdPrefix: 'u' } : {}),
  },
})
