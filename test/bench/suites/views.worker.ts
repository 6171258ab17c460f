/// <reference lib="webworker" />
// The views suite's served worker: the log, a running topology (totals per key) and the view
// 'totals' mirrored from its changelog, as an app's worker has them. A second tab's worker (name
// '<db>#follower') serves the same database and view without a topology of its own, as a tab whose
// instance stands by: its view follows the first tab's topology (previews over BroadcastChannel).
import { KafkaStreams, StreamsBuilder } from '../../../src/index.ts'
import { changelogView, serve } from '../../../src/worker/index.ts'

const [db, role] = (self.name || 'bench-views').split('#')
const served = await serve({
  name: db!,
  topics: [{ topic: 'amounts', numPartitions: 3 }],
  views: [changelogView('bench', 'totals')],
})
// Diagnostics for the bench page: when each commit happened in this worker, to split the latency.
const marks = new BroadcastChannel('duality-bench:views-marks')
served.log.onAppend((events, local) => {
  const at = performance.timeOrigin + performance.now()
  if (local) marks.postMessage({ topics: events.map((e) => e.topic), at })
})
// Appends made in the worker itself (no page send involved): the page's main-thread time is then
// the view's alone.
new BroadcastChannel('duality-bench:views-feed').onmessage = async ({ data }) => {
  if (role === 'follower') return
  const { events, perSend, keys } = data as { events: number; perSend: number; keys: number }
  const producer = served.log.producer()
  const sends: Promise<unknown>[] = []
  for (let i = 0; i < events; i += perSend) {
    sends.push(
      producer.send({
        topic: 'amounts',
        messages: Array.from({ length: Math.min(perSend, events - i) }, (_, j) => ({
          key: `k${(i + j) % keys}`,
          value: 1,
        })),
      }),
    )
  }
  await Promise.all(sends)
  marks.postMessage({ topics: ['feed-done'], at: performance.timeOrigin + performance.now() })
}
if (role !== 'follower') await runTopology()

async function runTopology() {
  const builder = new StreamsBuilder()
  builder
    .stream<string, number>('amounts')
    .groupByKey()
    .reduce((a, b) => a + b, { materialized: 'totals' })
  const streams = new KafkaStreams(builder.build(), served.log, { applicationId: 'bench' })
  // Views move on the topology's batches before their commits, as with serve({ streams }).
  served.attach(streams)
  streams.onChangelogPreview((preview) => {
    if (preview.type === 'processed')
      marks.postMessage({ topics: ['preview'], at: performance.timeOrigin + performance.now() })
  })
  await streams.start()
}
