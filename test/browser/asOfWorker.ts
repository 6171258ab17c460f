/// <reference lib="webworker" />
import { StreamsBuilder, TimeWindows } from '../../src/index.ts'
import { serve } from '../../src/worker/index.ts'

// A served topology over two input partitions, for views as of an input offset or time: a sum
// and a windowed count per key.
const builder = new StreamsBuilder()
const grouped = builder.stream<string, number>('spend').groupByKey()
grouped.reduce((a, b) => a + b, { materialized: 'totals' })
grouped.windowedBy(TimeWindows.ofSizeAndGrace(10, 5)).count({ materialized: 'per-window' })
void serve({
  name: self.name,
  topics: [{ topic: 'spend', numPartitions: 2 }],
  streams: { applicationId: 'app', topology: builder.build(), pollMs: 20 },
})
