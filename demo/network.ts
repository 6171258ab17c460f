// The demo's offline switch: a pretend network cable between every tab's worker and the server.
// The page says online/offline on a BroadcastChannel (so every tab's worker hears it, and the one
// that holds the sync lock obeys); the worker's fetch fails while offline, as a lost network does.

export const NETWORK_CHANNEL = 'duality-demo:network'
const STORAGE_KEY = 'duality-demo:offline'

/** The switch's position, or a worker that just started asking for it. */
export type NetworkMessage = { online: boolean } | { ask: true }

/** Page side: the switch's position is kept in localStorage, so every tab and a reload agree. */
export function isOffline(): boolean {
  return localStorage.getItem(STORAGE_KEY) === '1'
}

export function setOffline(offline: boolean): void {
  localStorage.setItem(STORAGE_KEY, offline ? '1' : '0')
  announce()
}

/** Tells the workers the switch's position. */
export function announce(): void {
  const channel = new BroadcastChannel(NETWORK_CHANNEL)
  channel.postMessage({ online: !isOffline() } satisfies NetworkMessage)
  channel.close()
}

/**
 * Answers workers that start after the page did (a message posted before a worker's channel
 * exists never reaches it, so the worker asks once it listens).
 */
export function answerWorkers(): void {
  new BroadcastChannel(NETWORK_CHANNEL).onmessage = (event: MessageEvent<NetworkMessage>) => {
    if ('ask' in event.data) announce()
  }
}

/**
 * Worker side: a fetch that fails while the switch is off, and cuts the requests in flight (a
 * long-poll would otherwise keep delivering) when it is turned off.
 */
export function switchableFetch(): typeof fetch {
  let online = true
  const inFlight = new Set<AbortController>()
  // Until a page answers (or for at most a second: no page, no switch), no request goes out, so
  // a worker started while the switch is off does not sync for a moment first.
  let decide: () => void = () => undefined
  const decided = new Promise<void>((resolve) => (decide = resolve))
  setTimeout(decide, 1000)
  const channel = new BroadcastChannel(NETWORK_CHANNEL)
  channel.onmessage = (event: MessageEvent<NetworkMessage>) => {
    if ('ask' in event.data) return
    online = event.data.online
    decide()
    if (!online) for (const controller of inFlight) controller.abort(new TypeError('offline'))
  }
  channel.postMessage({ ask: true } satisfies NetworkMessage)
  return async (input, init) => {
    await decided
    if (!online) throw new TypeError('Failed to fetch (the demo is offline)')
    const controller = new AbortController()
    const outer = init?.signal
    if (outer?.aborted) controller.abort(outer.reason)
    outer?.addEventListener('abort', () => controller.abort(outer.reason), { once: true })
    inFlight.add(controller)
    try {
      return await fetch(input, { ...init, signal: controller.signal })
    } finally {
      inFlight.delete(controller)
    }
  }
}
