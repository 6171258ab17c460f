import { proxy } from 'comlink'
import type { PendingValue, SubscribeOptions, ViewMessage } from '../worker/views/viewWire.ts'
import type { Client } from '../worker/connect.ts'
import { remoteViews } from './remoteViews.ts'
import { ViewState } from './ViewState.ts'

type Listener = (state: ViewState<never, never>) => void

/** Subscriptions by client, then by view name and range: what the stores of a view share. */
const shared = new WeakMap<Client, Map<string, ViewSubscription>>()

/**
 * One page-side subscription to a view in the worker, shared by every store on the same client,
 * view and range, and released when the last of them closes. It starts from the worker's snapshot
 * and applies each diff only if it starts exactly where the state is: a diff that does not (a
 * missed message) makes it ask for a new snapshot rather than show a state with a hole in it, and
 * a diff it has already applied is dropped.
 */
export class ViewSubscription {
  state: ViewState<never, never> = ViewState.empty()
  readonly ready: Promise<void>
  private readonly listeners = new Set<Listener>()
  private refs = 0
  private id: Promise<string> | null = null
  private settle!: { resolve(): void; reject(error: unknown): void }
  private closed = false
  /** Which worker subscription is current: messages of one we have left are ignored. */
  private generation = 0

  static acquire(client: Client, name: string, options: SubscribeOptions): ViewSubscription {
    let byName = shared.get(client)
    if (!byName) shared.set(client, (byName = new Map()))
    const key = JSON.stringify([name, options.range?.from, options.range?.to])
    let subscription = byName.get(key)
    if (!subscription || subscription.closed) {
      subscription = new ViewSubscription(client, name, options, () => byName.delete(key))
      byName.set(key, subscription)
    }
    subscription.refs++
    return subscription
  }

  private constructor(
    private readonly client: Client,
    readonly name: string,
    private readonly options: SubscribeOptions,
    private readonly forget: () => void,
  ) {
    this.ready = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }))
    // Marked handled: a store's user may never look at `ready`; the error is in the state too.
    this.ready.catch(() => undefined)
    this.start()
  }

  listen(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Drops one reference; the last one ends the subscription in the worker. */
  release(): void {
    if (--this.refs > 0 || this.closed) return
    this.closed = true
    this.forget()
    this.listeners.clear()
    this.stop()
  }

  private start(): void {
    const generation = ++this.generation
    const id = remoteViews(this.client).subscribe(
      this.name,
      proxy((message: ViewMessage) => {
        if (generation === this.generation) this.receive(message)
      }),
      this.options,
    )
    this.id = id
    id.catch((error: unknown) => {
      if (generation !== this.generation) return
      const e = error as { code?: string; message?: string }
      this.settle.reject(error)
      this.set(this.state.failed({ code: e.code ?? 'ERROR', message: String(e.message ?? e) }))
    })
  }

  private stop(): void {
    const id = this.id
    this.id = null
    this.generation++
    void id?.then((i) => remoteViews(this.client).unsubscribe(i)).catch(() => undefined)
  }

  /** The latest pending overlay: kept over every confirmed state until the next one. */
  private pending: PendingValue = { puts: [], deletes: [] }

  private receive(message: ViewMessage): void {
    if (this.closed) return
    if (message.type === 'pending') {
      this.pending = { puts: message.puts, deletes: message.deletes }
      if (this.state.status !== 'loading') this.set(this.state.confirmed.withPending(this.pending))
      return
    }
    if (message.type === 'snapshot') {
      const state = ViewState.fromSnapshot<never, never>(message)
      this.set(state.withPending(this.pending))
      this.settle.resolve()
      // The first render did without the state's map; the first diff will need it.
      whenIdle(() => state.prepare())
      return
    }
    if (message.type === 'error') {
      this.set(this.state.failed({ code: message.code, message: message.message }))
      return
    }
    if (this.state.status === 'loading') return
    const at = this.state.confirmed.offsets
    const covered = message.to.every((o, p) => o <= (at[p] ?? 0))
    if (covered) return
    const contiguous = message.from.every((o, p) => at[p] === undefined || o === at[p])
    if (!contiguous) {
      // Not where we are: start over from a fresh snapshot rather than skip or repeat changes.
      this.stop()
      this.start()
      return
    }
    this.set(this.state.confirmed.apply(message).withPending(this.pending))
  }

  private set(state: ViewState<never, never>): void {
    this.state = state
    for (const listener of this.listeners) listener(state)
  }
}

/** Runs `task` when the page is idle (within a second), or in the next task where there is no idle callback. */
function whenIdle(task: () => void): void {
  const idle = (globalThis as { requestIdleCallback?: (cb: () => void, o?: object) => number })
    .requestIdleCallback
  if (idle) idle(task, { timeout: 1000 })
  else setTimeout(task, 0)
}
