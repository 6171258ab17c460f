/**
 * The boot suite's page (test/bench/boot.html?mode=...&db=...&keys=...&events=...&snapshots=0|1),
 * what an app's page does at load: start its served worker (boot.worker.ts) and open a zustand
 * store of the view 'totals'. 'boot': a cold load on what is stored; `window.bootResult` gives the
 * time from navigation start (performance.timeOrigin) to the first listener call holding every
 * key, with the worker's marks on the same clock. 'fill': appends the events in the worker first.
 */
import { connect } from '../../../src/worker/index.ts'
import { createViewStore } from '../../../src/zustand/index.ts'

const moduleAt = performance.now()
const params = new URLSearchParams(location.search)
const mode = params.get('mode') === 'fill' ? 'fill' : 'boot'
const db = params.get('db') ?? 'bench-boot'
const events = Number(params.get('events'))
/** Keys the view has once every stored event is in it. */
const keys = Math.min(Number(params.get('keys')), events)
const snapshots = params.get('snapshots') === '1'

/** The worker's marks, in ms since this page's navigation start. */
const marks: { name: string; at: number }[] = []
const channel = new BroadcastChannel(`duality-bench:boot:${db}`)
const replies: { resolve: (data: Record<string, unknown>) => void }[] = []
channel.onmessage = ({ data }: MessageEvent<{ type: string; name?: string; at?: number }>) => {
  if (data.type === 'mark') marks.push({ name: data.name!, at: data.at! - performance.timeOrigin })
  else replies.shift()?.resolve(data)
}
const reply = () => new Promise<Record<string, unknown>>((resolve) => replies.push({ resolve }))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

declare global {
  interface Window {
    bootResult?: Promise<unknown>
  }
}

async function fill() {
  const ready = reply()
  const worker = new Worker(new URL('./boot.worker.ts', import.meta.url), {
    type: 'module',
    name: JSON.stringify({ db, snapshots, mode }),
  })
  worker.onerror = (event) => replies.shift()?.resolve({ type: 'failed', message: event.message })
  await ready
  const done = reply()
  channel.postMessage({ type: 'fill', events, keys })
  const result = await done
  worker.terminate()
  if (result.type !== 'filled') throw new Error(`fill failed: ${String(result.message)}`)
  return result
}

/**
 * When each message event reaches a listener of a MessagePort (comlink's, which carries the view's
 * messages): stamped before the listener reads the data, so before it is deserialised.
 */
const dispatches: number[] = []
const listen = MessagePort.prototype.addEventListener
MessagePort.prototype.addEventListener = function (
  this: MessagePort,
  type: string,
  listener: EventListenerOrEventListenerObject,
  options?: boolean | AddEventListenerOptions,
) {
  if (type !== 'message' || typeof listener !== 'function') {
    listen.call(this, type, listener, options)
    return
  }
  const stamped = (event: Event) => {
    dispatches.push(performance.now())
    listener.call(this, event)
  }
  listen.call(this, type, stamped, options)
} as typeof listen

async function boot() {
  const worker = new Worker(new URL('./boot.worker.ts', import.meta.url), {
    type: 'module',
    name: JSON.stringify({ db, snapshots, mode }),
  })
  const workerAt = performance.now()
  const client = connect(worker)
  const store = createViewStore<string, number>(client, 'totals')
  const firstViewAt = await new Promise<number>((resolve, reject) => {
    const off = store.subscribe((state) => {
      if (state.status === 'error') reject(new Error(`view: ${state.error?.message}`))
      if (state.size !== keys) return
      resolve(performance.now())
      off()
    })
    worker.onerror = (event) => reject(new Error(`worker: ${event.message || 'failed to load'}`))
    setTimeout(() => {
      const { size, status } = store.getState()
      const seen = JSON.stringify({ size, status, marks })
      reject(new Error(`no view of ${keys} keys in 60 s: ${seen}`))
    }, 60_000)
  })
  channel.postMessage({ type: 'viewed' })
  // The view's message: the last dispatch before the listener had every key.
  const viewMessageAt = dispatches.filter((at) => at <= firstViewAt).at(-1) ?? null
  let sum = 0
  for (const e of store.getState().entries()) sum += e.value
  if (sum < events) throw new Error(`the view sums to ${sum}, not at least ${events}`)
  // The worker's last mark (its first commit) may come after the view.
  for (let i = 0; i < 1500 && !marks.some((m) => m.name === 'first commit'); i++) await sleep(20)
  const navigation = performance.getEntriesByType('navigation')[0] as
    PerformanceNavigationTiming | undefined
  store.close()
  client.close()
  worker.terminate()
  return {
    firstViewAt,
    viewMessageAt,
    moduleAt,
    workerAt,
    responseEnd: navigation?.responseEnd ?? null,
    marks,
    sum,
  }
}

window.bootResult = mode === 'fill' ? fill() : boot()
