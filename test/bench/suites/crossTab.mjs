// Suite 'cross-tab': how soon a record sent in one tab reaches a consumer in another. Two tabs of
// one browser profile each start their own served worker on the same database (crossTab.page.ts);
// tab B's consumer (eachMessage, maxWaitTimeInMs 5000, so only the cross-tab notice makes it
// prompt) stamps every record that tab A sent one at a time. Latency = B's receive time - A's
// send-start time, both performance.timeOrigin + performance.now() on one machine's clock.
import { callPage, latencyStats, loadPageSuite } from './pageSuite.mjs'

const SUITE = 'cross-tab'
const DB = 'bench-cross-tab'
const TOPIC = 'latency'

export async function runCrossTab({ page: a, context, baseUrl, options: o, progress }) {
  const failed = await loadPageSuite(a, SUITE)
  if (failed) return { skipped: failed }
  const samples = o.repeats > 1 ? 300 : 100
  const warmUp = 30

  const b = await context.newPage()
  b.on('pageerror', (error) => progress(`${SUITE}: tab B page error: ${error.message}`))
  b.on('console', (m) =>
    m.type() === 'error' ? progress(`${SUITE}: tab B console: ${m.text()}`) : undefined,
  )
  await b.goto(new URL('test/bench/index.html', baseUrl).href)
  await b.waitForFunction(() => 'bench' in window)
  try {
    await callPage(a, SUITE, 'open', DB)
    await callPage(b, SUITE, 'open', DB)
    await callPage(a, SUITE, 'createTopic', TOPIC)
    await callPage(b, SUITE, 'consume', TOPIC, 'bench-readers')
    await callPage(b, SUITE, 'assigned', 5000)
    // B's clock minus A's: what every latency below would be off by.
    const clock = await callPage(a, SUITE, 'clockOffset', 20)

    progress(`${SUITE}: warm-up, ${warmUp} records`)
    await callPage(a, SUITE, 'send', TOPIC, 0, warmUp)
    const warm = await callPage(b, SUITE, 'take', warmUp, 6000)
    if (warm.length < warmUp) throw new Error(`warm-up: ${warm.length} of ${warmUp} received`)

    progress(`${SUITE}: ${samples} records, one at a time`)
    const started = Date.now()
    const acks = await callPage(a, SUITE, 'send', TOPIC, warmUp, samples)
    const elapsed = Date.now() - started
    // A record whose notice got lost still arrives by the consumer's next poll (5 s).
    const got = await callPage(b, SUITE, 'take', samples, 6000)
    const byIndex = new Map(got.map((s) => [s.i, s])) // a redelivery counts once
    const latencies = [...byIndex.values()].map((s) => s.receivedAt - s.sentAt)
    if (latencies.length === 0) throw new Error('tab B received none of the records')
    const missing = samples - byIndex.size
    const { offset: off, error } = clock
    const offset = Math.abs(off) < 0.005 ? '0.00' : `${off > 0 ? '+' : ''}${off.toFixed(2)}`
    const clockNote = `clock B - A ${offset} ms (±${error.toFixed(2)})`
    const deliveryNote = [
      `maxWaitTimeInMs 5000, ${warmUp} warm-up records`,
      missing > 0 ? `${missing} of ${samples} not received within 6 s` : undefined,
      got.length > byIndex.size ? `${got.length - byIndex.size} delivered twice` : undefined,
      clockNote,
    ]
    const row = (id, workload, values, note) => ({
      id,
      peer: 'duality, 2 tabs, a worker each',
      workload,
      events: values.length,
      ms: elapsed,
      eventsPerSec: values.length / (elapsed / 1000),
      latencyMs: latencyStats(values),
      note: note.filter(Boolean).join('; '),
    })
    return {
      rows: [
        row('cross-tab.delivery', 'tab A send start -> tab B eachMessage', latencies, deliveryNote),
        row('cross-tab.send-ack', 'tab A send start -> send resolved', acks, ['diagnostic']),
      ],
    }
  } finally {
    await Promise.all([a, b].map((p) => callPage(p, SUITE, 'close').catch(() => undefined)))
    await callPage(a, SUITE, 'deleteDatabase', DB).catch(() => undefined)
    await b.close()
  }
}
