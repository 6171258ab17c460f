export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown }

interface Pending<T, R> {
  item: T | Promise<T>
  resolve: (value: R) => void
  reject: (error: unknown) => void
}

/**
 * Group commit: requests that arrive while a commit is in flight (or within `lingerMs` of the first
 * one) share the next transaction. Each request resolves only after the transaction holding it
 * committed. `commit` returns one outcome per item so one bad request never fails its neighbours.
 */
export class GroupCommit<T, R> {
  private queue: Pending<T, R>[] = []
  private running = false
  private scheduled = false

  constructor(
    private readonly commit: (items: T[]) => Promise<Outcome<R>[]>,
    private readonly lingerMs = 0,
  ) {}

  /** `item` may still be a promise: its place in the queue is taken now. */
  enqueue(item: T | Promise<T>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject })
      this.schedule()
    })
  }

  private idleWaiters: (() => void)[] = []

  /** Resolves once everything enqueued so far has been committed or failed. */
  drain(): Promise<void> {
    if (this.queue.length === 0 && !this.running && !this.scheduled) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private schedule(): void {
    if (this.running || this.scheduled) return
    this.scheduled = true
    // A microtask gathers every send issued in the same task; a linger gathers across tasks.
    if (this.lingerMs > 0) setTimeout(() => void this.run(), this.lingerMs)
    else queueMicrotask(() => void this.run())
  }

  private async run(): Promise<void> {
    this.scheduled = false
    this.running = true
    while (this.queue.length > 0) {
      const queued = this.queue
      this.queue = []
      // Items still being prepared are waited for in order; one whose preparation failed is
      // rejected alone and the rest commit together.
      const settled = await Promise.allSettled(queued.map((p) => p.item))
      const group: Pending<T, R>[] = []
      const items: T[] = []
      settled.forEach((s, i) => {
        if (s.status === 'rejected') queued[i]!.reject(s.reason)
        else {
          group.push(queued[i]!)
          items.push(s.value)
        }
      })
      if (group.length === 0) continue
      let outcomes: Outcome<R>[]
      try {
        outcomes = await this.commit(items)
      } catch (error) {
        outcomes = group.map(() => ({ ok: false, error }))
      }
      group.forEach((p, i) => {
        const o = outcomes[i]!
        if (o.ok) p.resolve(o.value)
        else p.reject(o.error)
      })
    }
    this.running = false
    for (const resolve of this.idleWaiters.splice(0)) resolve()
  }
}
