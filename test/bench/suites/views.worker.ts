/// <reference lib="webworker" />
// The views suite's served worker: the log, a running topology (totals per key) and the view
// 'totals' mirrored from its changelog, as an app's worker has them.
import { KafkaStreams, StreamsBuilder } from '../../../src/index.ts'
import { changelogView, serve } from '../../../src/worker/index.ts'

const served = await serve({
  name: self.name || 'bench-views',
  topics: [{ topic: 'amounts', numPartitions: 3 }],
  views: [changelogView('bench', 'totals')],
})
// Diagnostics for the bench page: when each commit happened in this worker, to split the latency.
const marks = new BroadcastChannel('duality-bench:views-marks')
served.log.onAppend((events, local) => {
  const at = performance.timeOrigin + performance.now()
  if (local) marks.postMessage({ topics: events.map((e) => e.topic), at })
})
const builder = new StreamsBuilder()
builder
  .stream<string, number>('amounts')
  .groupByKey()
  .reduce((a, b) => a + b, { materialized: 'totals' })
await new KafkaStreams(builder.build(), served.log, { applicationId: 'bench' }).start()
