// The load generator of `npm run bench:server`, in a worker thread of its own: the server under
// test keeps the main thread (and a core) to itself, and every server gets the same client: a
// minimal HTTP/1.1 client (rawHttp.mjs), one keep-alive connection per producer. fetch costs
// ~0.5 ms a request and node:http about what a server does, so either would measure the client.
import { parentPort, workerData } from 'node:worker_threads'
import { RawConnection } from './rawHttp.mjs'

const { url, batch, sequentialBatches, producers, concurrentBatches, catchUpEvents, rounds } =
  workerData
const connections = Array.from({ length: producers }, () => new RawConnection(url))
await Promise.all(connections.map((c) => c.ready))
const origin = new URL(url)

/** A request on producer lane `lane`'s connection (each lane sends one request at a time). */
function send(method, target, headers, body, lane = 0) {
  const { pathname, search } = new URL(target, origin)
  return connections[lane].request(method, pathname + search, headers, body)
}

const batchBody = (from) =>
  JSON.stringify(
    Array.from({ length: batch }, (_, i) => ({ id: from + i, type: 'payment', amount: 3.5 })),
  )

async function create(target) {
  const res = await send('PUT', target, { 'content-type': 'application/json' })
  if (res.status !== 201) throw new Error(`create ${target}: ${res.status}`)
}

async function appendBatches(target, producer, batches, lane = 0) {
  for (let seq = 0; seq < batches; seq++) {
    const body = batchBody(seq * batch)
    const res = await send(
      'POST',
      target,
      {
        'content-type': 'application/json',
        'producer-id': producer,
        'producer-epoch': '0',
        'producer-seq': String(seq),
      },
      body,
      lane,
    )
    if (res.status !== 200) throw new Error(`append ${target}: ${res.status} ${res.body}`)
  }
}

/** Reads the whole stream from the start, chunk by chunk, parsing every event. */
async function catchUp(target) {
  let offset = '-1'
  let events = 0
  for (;;) {
    const res = await send('GET', `${target}?offset=${encodeURIComponent(offset)}`, {})
    if (res.status !== 200) throw new Error(`read ${target}: ${res.status}`)
    events += JSON.parse(res.body.toString()).length
    offset = res.headers['stream-next-offset']
    if (res.headers['stream-up-to-date'] === 'true') return events
  }
}

const rate = (events, ms) => Math.round((events / ms) * 1000)
const lanes = (fn) => Promise.all(Array.from({ length: producers }, (_, p) => fn(p)))

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const base = `${url}/v1/stream/bench`

// Warm-up, not timed, the same for every server: JIT, connections, the first pages of storage.
await create(`${base}/warm`)
await lanes((p) => appendBatches(`${base}/warm`, `w${p}`, 100, p))
await catchUp(`${base}/warm`)

// Each figure is the median of `rounds` runs, each on a fresh stream.
const figures = { sequential: [], concurrent: [], catchUp: [] }
for (let round = 0; round < rounds; round++) {
  const seq = `${base}/seq-${round}`
  await create(seq)
  let t = performance.now()
  await appendBatches(seq, 'p', sequentialBatches)
  figures.sequential.push(rate(sequentialBatches * batch, performance.now() - t))

  const concurrent = `${base}/concurrent-${round}`
  await create(concurrent)
  t = performance.now()
  await lanes((p) => appendBatches(concurrent, `p${p}`, concurrentBatches, p))
  figures.concurrent.push(rate(producers * concurrentBatches * batch, performance.now() - t))

  const log = `${base}/catchup-${round}`
  await create(log)
  await lanes((p) => appendBatches(log, `c${p}`, catchUpEvents / batch / producers, p))
  t = performance.now()
  const read = await catchUp(log)
  figures.catchUp.push(rate(read, performance.now() - t))
  if (read !== catchUpEvents) throw new Error(`read ${read} of ${catchUpEvents} events`)
}
for (const c of connections) c.close()
parentPort.postMessage({
  sequential: median(figures.sequential),
  concurrent: median(figures.concurrent),
  catchUp: median(figures.catchUp),
  runs: figures,
})
