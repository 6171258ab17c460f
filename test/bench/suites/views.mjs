// Suite 'views': a view of 10,000 keys as a zustand store in the page (views.page.ts), fed by a
// topology in the page's served worker (views.worker.ts). Latency: a send's start in the page to
// the store's listener holding the new value, one record at a time. Main-thread time (CDP
// Performance.getMetrics, TaskDuration) is read around each measurement and given per 1,000
// appended events: for the one-at-a-time sends (each its own diff) and for a burst of sends of
// 100 all in flight (diffs merged per frame). Then a second tab with a store of the same view: tab
// A's sends timed to both tabs' listeners.
import { callPage, latencyStats, loadPageSuite } from './pageSuite.mjs'

const SUITE = 'views'
const p50 = (values) => (values.length ? latencyStats(values).p50.toFixed(1) : '-')
const KEYS = 10_000

export async function runViews({ page, context, baseUrl, options: o, progress }) {
  const failed = await loadPageSuite(page, SUITE)
  if (failed) return { skipped: failed }
  const cdp = await context.newCDPSession(page)
  await cdp.send('Performance.enable')
  const taskMs = async () =>
    (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration')
      .value * 1000
  const samples = o.repeats > 1 ? 300 : 100
  const warmUp = 30
  const burstEvents = o.repeats > 1 ? 20_000 : 5_000
  let b
  try {
    progress(`${SUITE}: seeding ${KEYS} keys`)
    const { snapshotMs } = await callPage(page, SUITE, 'open', `bench-views`, KEYS)
    progress(`${SUITE}: warm-up, ${warmUp} sends`)
    await callPage(page, SUITE, 'latency', warmUp, KEYS)

    progress(`${SUITE}: ${samples} sends, one at a time`)
    let before = await taskMs()
    let started = Date.now()
    const { latencies, acks, phases } = await callPage(page, SUITE, 'latency', samples, KEYS)
    const latencyMain = ((await taskMs()) - before) / (samples / 1000)
    const latencyElapsed = Date.now() - started

    progress(`${SUITE}: burst of ${burstEvents} events in sends of 100`)
    before = await taskMs()
    started = Date.now()
    const burst = await callPage(page, SUITE, 'burst', burstEvents, 100, KEYS)
    const burstMain = ((await taskMs()) - before) / (burstEvents / 1000)

    progress(`${SUITE}: burst of ${burstEvents} events appended in the worker`)
    before = await taskMs()
    const fed = await callPage(page, SUITE, 'burst', burstEvents, 100, KEYS, 'worker')
    const fedMain = ((await taskMs()) - before) / (burstEvents / 1000)

    // Two tabs: tab B (a second page of the profile) serves the same database with a store of
    // the same view and no topology of its own; tab A sends, both tabs' listeners are timed.
    progress(`${SUITE}: tab B opens the same view`)
    b = await context.newPage()
    b.on('pageerror', (error) => progress(`${SUITE}: tab B page error: ${error.message}`))
    b.on('console', (m) =>
      m.type() === 'error' ? progress(`${SUITE}: tab B console: ${m.text()}`) : undefined,
    )
    await b.goto(new URL('test/bench/index.html', baseUrl).href)
    await b.waitForFunction(() => 'bench' in window)
    const failedB = await loadPageSuite(b, SUITE)
    if (failedB) throw new Error(`tab B: ${failedB}`)
    await callPage(b, SUITE, 'follow', 'bench-views', KEYS)
    await callPage(page, SUITE, 'latency', warmUp, KEYS, true)
    await callPage(b, SUITE, 'takeOther', warmUp, 5000)
    progress(`${SUITE}: ${samples} sends in tab A, one at a time, listeners in tabs A and B`)
    started = Date.now()
    const twoTabs = await callPage(page, SUITE, 'latency', samples, KEYS, true)
    const twoTabsElapsed = Date.now() - started
    const otherTab = await callPage(b, SUITE, 'takeOther', samples, 5000)
    if (otherTab.latencies.length === 0) throw new Error('tab B saw none of the changes')
    // Closed before the baseline, which must measure tab A alone as before.
    await callPage(b, SUITE, 'close')
    await b.close()
    b = undefined

    progress(`${SUITE}: ${samples} sends, one at a time, without the store (baseline)`)
    before = await taskMs()
    await callPage(page, SUITE, 'sendsOnly', samples, KEYS)
    const baselineMain = ((await taskMs()) - before) / (samples / 1000)

    const peer = 'duality/zustand view store, 10,000 keys'
    return {
      rows: [
        {
          id: 'views.latency',
          peer,
          workload: 'page send start -> zustand listener with the new value',
          events: latencies.length,
          ms: latencyElapsed,
          eventsPerSec: latencies.length / (latencyElapsed / 1000),
          latencyMs: latencyStats(latencies),
          mainThreadMsPer1k: latencyMain,
          note: [
            `one send at a time, 10-20 ms apart, ${warmUp} warm-up`,
            `send resolved (committed) p50 ${latencyStats(acks).p50.toFixed(1)} ms`,
            `p50 split: send -> append committed ${p50(phases.append)}, -> topology's preview ${p50(phases.process)}, -> listener ${p50(phases.view)} (append -> changelog committed ${p50(phases.streams)}) ms (${phases.view.length} samples)`,
            `main thread ${latencyMain.toFixed(1)} ms per 1k events (the same sends without a store: ${baselineMain.toFixed(1)})`,
            `snapshot of ${KEYS} keys ${snapshotMs.toFixed(1)} ms`,
          ].join('; '),
        },
        {
          id: 'views.two-tabs.same-tab',
          peer: `${peer}, 2 tabs`,
          workload: 'tab A send start -> tab A zustand listener (tab B open)',
          events: twoTabs.latencies.length,
          ms: twoTabsElapsed,
          eventsPerSec: twoTabs.latencies.length / (twoTabsElapsed / 1000),
          latencyMs: latencyStats(twoTabs.latencies),
          note: [
            `one send at a time, 10-20 ms apart, ${warmUp} warm-up`,
            `send resolved p50 ${latencyStats(twoTabs.acks).p50.toFixed(1)} ms`,
            `p50 split: send -> append committed ${p50(twoTabs.phases.append)}, -> topology's preview ${p50(twoTabs.phases.process)}, -> listener ${p50(twoTabs.phases.view)} (append -> changelog committed ${p50(twoTabs.phases.streams)}) ms (${twoTabs.phases.view.length} samples)`,
          ].join('; '),
        },
        {
          id: 'views.two-tabs.other-tab',
          peer: `${peer}, 2 tabs`,
          workload: 'tab A send start -> tab B zustand listener',
          events: otherTab.latencies.length,
          ms: twoTabsElapsed,
          eventsPerSec: otherTab.latencies.length / (twoTabsElapsed / 1000),
          latencyMs: latencyStats(otherTab.latencies),
          note: [
            "tab B's worker runs no topology (its view follows tab A's previews and commits)",
            'clocks: both performance.timeOrigin + now() on one machine',
            otherTab.missing > 0 ? `${otherTab.missing} not seen within 5 s` : undefined,
          ]
            .filter(Boolean)
            .join('; '),
        },
        {
          id: 'views.burst',
          peer,
          workload: `${burstEvents} events in sends of 100, all in flight -> view up to date`,
          events: burstEvents,
          ms: burst.ms,
          eventsPerSec: burstEvents / (burst.ms / 1000),
          mainThreadMsPer1k: burstMain,
          note: [
            `main thread ${burstMain.toFixed(1)} ms per 1k events (incl. the sends)`,
            `${burst.updates} store updates`,
          ].join('; '),
        },
        {
          id: 'views.feed',
          peer,
          workload: `${burstEvents} events appended in the worker (100 a send) -> view up to date`,
          events: burstEvents,
          ms: fed.ms,
          eventsPerSec: burstEvents / (fed.ms / 1000),
          mainThreadMsPer1k: fedMain,
          note: [
            `main thread ${fedMain.toFixed(1)} ms per 1k events (the view's alone: no page sends)`,
            `${fed.updates} store updates`,
          ].join('; '),
        },
      ],
    }
  } finally {
    // Tab B first: deleting the database (tab A's close) waits for every connection to close.
    if (b) await callPage(b, SUITE, 'close').catch(() => undefined)
    await b?.close().catch(() => undefined)
    await callPage(page, SUITE, 'close').catch(() => undefined)
    await cdp.detach().catch(() => undefined)
  }
}
