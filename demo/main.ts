import { connect } from '../src/worker/index.ts'

const client = connect(
  new Worker(new URL('../worker/demo.worker.ts', import.meta.url), { type: 'module' }),
)
const $ = (id: string) => document.getElementById(id)!
const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)

type Payment = { user: string; amount: number; merchant: string }

/** Reads a whole partition in chunks; the views below are folds over it. */
async function* records(topic: string, partition: number) {
  for (let offset = 0; ;) {
    const chunk = await client.fetch({ topic, partition, offset, maxRecords: 500 })
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

async function overview() {
  const admin = client.admin()
  const topics = await admin.listTopics()
  return Promise.all(
    topics.map(async (topic) => ({ topic, partitions: await admin.fetchTopicOffsets(topic) })),
  )
}

async function render(): Promise<void> {
  const overview_ = await overview()
  $('topics').innerHTML = overview_
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
  const payment = {
    user: String(form.get('user')),
    amount: Number(form.get('amount')),
    merchant: String(form.get('merchant')),
  }
  // The payment and the user's latest-payment record go in together or not at all. The tables
  // change because the log changed: the consumer below sees the new records and re-renders.
  await client.producer().sendBatch({
    topicMessages: [
      { topic: 'payments', messages: [{ key: payment.user, value: payment }] },
      { topic: 'last-payment', messages: [{ key: payment.user, value: payment }] },
    ],
  })
})
$('compact').addEventListener('click', async () => {
  await client.cleaner.run({ force: true })
  await render()
})

// Every tab follows the log live (its own group, so each tab sees every record), including
// records appended in other tabs; renders are coalesced to one per frame.
let scheduled = false
const rerender = () => {
  if (scheduled) return
  scheduled = true
  requestAnimationFrame(() => {
    scheduled = false
    void render()
  })
}
const follower = client.consumer({ groupId: `demo-view-${crypto.randomUUID()}` })
await follower.subscribe({ topics: ['payments', 'last-payment'] })
await follower.run({ autoCommit: false, eachBatch: async () => rerender() })
await render()
