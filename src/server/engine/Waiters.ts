export type WaitResult = 'changed' | 'timeout' | 'aborted'

/** Live readers (long-poll, SSE) parked on a stream until it changes, per stream id. */
export class Waiters {
  private readonly byStream = new Map<number, Set<() => void>>()
  private readonly closing = new AbortController()

  /** Parks until the stream changes, `timeoutMs` passes, `given` aborts, or `closeAll`. */
  wait(streamId: number, timeoutMs: number, given?: AbortSignal): Promise<WaitResult> {
    // Listeners on both signals, removed when done: AbortSignal.any would leave a reference to
    // every wait on the server-lifetime `closing` signal (Node 20 frees them only with it).
    const signals = given ? [given, this.closing.signal] : [this.closing.signal]
    return new Promise((resolve) => {
      if (signals.some((s) => s.aborted)) return resolve('aborted')
      let set = this.byStream.get(streamId)
      if (!set) {
        set = new Set()
        this.byStream.set(streamId, set)
      }
      const parked = set
      let settled = false
      const done = (result: WaitResult): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        for (const s of signals) s.removeEventListener('abort', onAbort)
        parked.delete(wake)
        if (parked.size === 0 && this.byStream.get(streamId) === parked) {
          this.byStream.delete(streamId)
        }
        resolve(result)
      }
      const wake = (): void => done('changed')
      const onAbort = (): void => done('aborted')
      const timer = setTimeout(() => done('timeout'), timeoutMs)
      for (const s of signals) s.addEventListener('abort', onAbort, { once: true })
      parked.add(wake)
    })
  }

  /** How many readers are parked. */
  get size(): number {
    let n = 0
    for (const set of this.byStream.values()) n += set.size
    return n
  }

  wake(streamId: number): void {
    for (const wake of [...(this.byStream.get(streamId) ?? [])]) wake()
  }

  /** Ends every wait, now and from now on (the server is shutting down). */
  closeAll(): void {
    this.closing.abort()
  }

  wakeAll(): void {
    for (const id of [...this.byStream.keys()]) this.wake(id)
  }
}
