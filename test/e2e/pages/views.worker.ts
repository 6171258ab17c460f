/// <reference lib="webworker" />
import { KafkaStreams, StreamsBuilder } from '../../../src/index.ts'
import { changelogView, serve } from '../../../src/worker/index.ts'

// A tab's worker for the views scenarios: it serves the log and the view 'totals' (a mirror of the
// store's changelog), and runs the topology only while it holds a Web Lock, so that each input
// record is processed once whatever number of tabs is open (until KafkaStreams itself joins a
// consumer group across tabs). Every tab's view follows the changelog, whichever tab wrote it.
const name = self.name || 'views'
const served = await serve({
  name,
  topics: [{ topic: 'payments', numPartitions: 3 }],
  views: [changelogView('app', 'totals')],
})

void navigator.locks.request(`${name}:streams`, async () => {
  const builder = new StreamsBuilder()
  builder
    .stream<string, number>('payments')
    .groupByKey()
    .reduce((a, b) => a + b, { materialized: 'totals' })
  const streams = new KafkaStreams(builder.build(), served.log, { applicationId: 'app' })
  await streams.start()
  // Held for the worker's lifetime: the next tab takes over when this one closes.
  await new Promise<never>(() => undefined)
})
