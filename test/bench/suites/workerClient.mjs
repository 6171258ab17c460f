// Suite 'worker-client': send throughput from the page's main thread through connect() to a
// served worker (workerClient.page.ts), against the same workloads run inside a worker on its own
// Log (workerClientBaseline.ts). Repeats alternate the two sides, which start in turn, so drift
// on a busy machine hits both; each reports the median repeat, the page rows also the ratio per
// repeat. The page's main-thread task time (CDP Performance.getMetrics, TaskDuration) is read
// around each page measurement.
import { callPage, loadPageSuite, medianRows } from './pageSuite.mjs'

const SUITE = 'worker-client'
const WORKLOADS = ['send@1-concurrent', 'send@1000']

export async function runWorkerClient({ page, context, options: o, progress }) {
  const failed = await loadPageSuite(page, SUITE)
  if (failed) return { skipped: failed }
  const cdp = await context.newCDPSession(page)
  await cdp.send('Performance.enable')
  const taskSeconds = async () =>
    (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value

  const inWorker = async () => {
    const result = await page.evaluate(
      (o) => window.bench.runWorkerSuite('worker-client-baseline', o),
      o,
    )
    if ('skipped' in result) throw new Error(`in-worker baseline: ${result.skipped}`)
    return result.rows
  }
  const inPage = async (repeat) => {
    await callPage(page, SUITE, 'open', `bench-worker-client-${repeat}`, o)
    const rows = []
    try {
      for (const workload of WORKLOADS) {
        progress(`${SUITE}: page ${workload}`)
        const before = await taskSeconds()
        const r = await callPage(page, SUITE, 'measure', workload, o)
        const ms = ((await taskSeconds()) - before) * 1000
        r.mainThreadMsPer1k = (ms / r.events) * 1000
        rows.push(r)
      }
    } finally {
      await callPage(page, SUITE, 'close')
    }
    return rows
  }

  // o.pairedRepeats (7; 1 with --quick): short workloads on 2 busy cores are noisy.
  const repeats = o.pairedRepeats
  const runs = { page: [], inWorker: [] }
  for (let i = 0; i < repeats; i++) {
    progress(`${SUITE}: repeat ${i + 1} of ${repeats}`)
    const sides = i % 2 === 0 ? ['inWorker', 'page'] : ['page', 'inWorker']
    for (const side of sides) runs[side].push(side === 'page' ? await inPage(i) : await inWorker())
  }
  await cdp.detach()
  // Each repeat's page / in-worker ratio: less exposed to drift than the ratio of the medians.
  const paired = (id) => {
    const ratios = runs.page.map((rows, i) => {
      const rate = (rs, side) => rs.find((r) => r.id === `${SUITE}.${side}.${id}`).eventsPerSec
      return rate(rows, 'page') / rate(runs.inWorker[i], 'in-worker')
    })
    ratios.sort((a, b) => a - b)
    const median = ratios[Math.floor(ratios.length / 2)].toFixed(2)
    return `page / in-worker per repeat: median ${median}, ${ratios[0].toFixed(2)}-${ratios.at(-1).toFixed(2)}`
  }
  const pageRows = medianRows(runs.page).map((r) => ({
    ...r,
    note: [
      `main thread ${r.mainThreadMsPer1k.toFixed(1)} ms per 1k events`,
      repeats > 1 ? paired(r.id.slice(`${SUITE}.page.`.length)) : undefined,
      r.note,
    ]
      .filter(Boolean)
      .join('; '),
  }))
  return { rows: [...medianRows(runs.inWorker), ...pageRows] }
}
