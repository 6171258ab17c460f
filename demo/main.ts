import { wrap } from 'comlink'
import type { DemoWorkerApi } from '../worker/demo.worker.ts'

const worker = wrap<DemoWorkerApi>(
  new Worker(new URL('../worker/demo.worker.ts', import.meta.url), { type: 'module' }),
)
const $ = (id: string) => document.getElementById(id)!
const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)

type Payment = { user: string; amount: number; merchant: string }

/** Reads a whole partition in chunks; the views below are folds over it. */
async function* records(topic: string, partition: number) {
  for (let offset = 0; ;) {
    const chunk = await worker.read(topic, partition, offset)
    yield* chunk.records
    if (chunk.nextOffset >= chunk.highWatermark) return
    offset = chunk.nextOffset
  }
}

/** Totals per user: a fold of the payments stream (a table is a stream folded by key). */
async function totals(): Promise<Map<string, number>> {
  const table = new Map<string, number>()
  for (const partition of [0, 1, 2]) {
    for await (const r of records('payments', partition)) {
      const p = r.value as Payment
      table.set(p.user, (table.get(p.user) ?? 0) + p.amount)
    }
  }
  return table
}

/** Latest payment per user, from the compacted topic: compaction keeps exactly this. */
async function lastPayments(): Promise<Map<string, Payment>> {
  const table = new Map<string, Payment>()
  for await (const r of records('last-payment', 0)) table.set(String(r.key), r.value as Payment)
  return table
}

async function render(): Promise<void> {
  const overview = await worker.overview()
  $('topics').innerHTML = overview
    .map(
      ({ topic, partitions }) =>
        `<h3>${esc(topic)}</h3><table><tr><th>partition</th><th>log start</th><th>high watermark</th></tr>` +
        partitions
          .map((p) => `<tr><td>${p.partition}</td><td>${p.low}</td><td>${p.high}</td></tr>`)
          .join('') +
        '</table>',
    )
    .join('')
  const [sums, last] = await Promise.all([totals(), lastPayments()])
  $('balances').innerHTML =
    '<table><tr><th>user</th><th>total spent</th><th>last payment</th></tr>' +
    [...sums]
      .map(
        ([user, total]) =>
          `<tr><td>${esc(user)}</td><td>${total.toFixed(2)}</td><td>${esc(last.get(user)?.merchant ?? '')}</td></tr>`,
      )
      .join('') +
    '</table>'
}

$('pay').addEventListener('submit', async (event) => {
  event.preventDefault()
  const form = new FormData(event.target as HTMLFormElement)
  await worker.pay({
    user: String(form.get('user')),
    amount: Number(form.get('amount')),
    merchant: String(form.get('merchant')),
  })
  await render()
})
$('compact').addEventListener('click', async () => {
  await worker.compact()
  await render()
})

await worker.ensureTopics()
await render()
