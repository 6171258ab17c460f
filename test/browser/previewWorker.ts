/// <reference lib="webworker" />
import { StreamsBuilder, type LogStorage } from '../../src/index.ts'
import { idbStorage } from '../../src/storage/idb/index.ts'
import { serve } from '../../src/worker/index.ts'

// A tab's worker as an app has it (serve with a topology and its view), whose storage can hold its
// next batch commit (a write of consumer offsets) or its next plain append, on the test's word:
// the test then sees what the views show in between. Named '<database>|<tab>'.
const [database, tab] = self.name.split('|') as [string, string]
const control = new BroadcastChannel(`preview-test:${tab}`)

type Hold = 'commit' | 'append'
let hold: { kind: Hold; open: Promise<void>; release: () => void; held: boolean } | null = null
control.onmessage = ({
  data,
}: MessageEvent<{ type: 'hold'; kind: Hold } | { type: 'release' }>) => {
  if (data.type === 'hold') {
    let release!: () => void
    const open = new Promise<void>((resolve) => (release = resolve))
    hold = { kind: data.kind, open, release, held: false }
    control.postMessage({ type: 'holding' })
  } else {
    const current = hold
    hold = null
    current?.release()
  }
}

const inner = idbStorage({ name: database })
const storage: LogStorage = {
  kind: 'idb',
  read: async (stores, body) => (await inner).read(stores, body),
  async write(stores, body, options) {
    const current = hold
    const commit = stores.includes('offsets')
    if (
      current &&
      !current.held &&
      stores.includes('batches') &&
      commit === (current.kind === 'commit')
    ) {
      current.held = true
      control.postMessage({ type: 'held', kind: current.kind })
      await current.open
    }
    return (await inner).write(stores, body, options)
  },
  close: async () => (await inner).close(),
}

const builder = new StreamsBuilder()
builder
  .stream<string, number>('payments')
  .groupByKey()
  .reduce((a, b) => a + b, { materialized: 'totals' })

const served = await serve({
  name: database,
  storage,
  topics: [{ topic: 'payments', numPartitions: 2 }],
  streams: { topology: builder.build(), applicationId: 'app', pollMs: 50 },
})
// Which tab's instance runs the topology moves when tabs join or leave: the test asks.
served.streams!.onStateChange((state) => control.postMessage({ type: 'state', state }))
control.postMessage({ type: 'state', state: served.streams!.currentState })
control.postMessage({ type: 'served' })
