import { TransactionAborted, type ServerStorage } from './ServerStorage.ts'

// After the I/O of this turn (Node's setImmediate), so appends that arrived together share the
// commit; where there is no setImmediate (workerd, browsers), the next macrotask.
const nextTurn: (fn: () => void) => void =
  typeof setImmediate === 'function' ? (fn) => setImmediate(fn) : (fn) => setTimeout(fn, 0)

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown }

/**
 * Group commit: the operations submitted within one turn of the event loop run in one storage
 * transaction, so concurrent appends share one commit (and one fsync). Each runs in its own
 * nested transaction (a savepoint), so one that throws rolls back alone; every promise settles
 * only once the shared commit is durable (`durable`: the storage's flush, which runs off the
 * main thread while the next groups commit). Reads never see a group half-done: it runs
 * synchronously, begin to commit.
 */
export class TurnCommit<Req, Res> {
  private pending: { req: Req; resolve: (res: Res) => void; reject: (error: unknown) => void }[] =
    []

  constructor(
    private readonly storage: ServerStorage,
    private readonly run: (req: Req) => Res,
    /** After the commit: resolves once it is durable (undefined: it already is). */
    private readonly durable: () => Promise<void> | undefined = () => undefined,
  ) {}

  submit(req: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      if (this.pending.push({ req, resolve, reject }) === 1) nextTurn(() => this.flush())
    })
  }

  private flush(): void {
    const group = this.pending
    this.pending = []
    const results: Settled<Res>[] = []
    try {
      this.storage.transaction(() => {
        for (const { req } of group) {
          try {
            results.push({ ok: true, value: this.storage.transaction(() => this.run(req)) })
          } catch (error) {
            // The storage dropped the whole group (a full disk): fail it all, with the cause.
            if (error instanceof TransactionAborted) throw error.cause
            results.push({ ok: false, error })
          }
        }
      })
    } catch (error) {
      // The commit itself failed: nothing of the group was written.
      for (const item of group) item.reject(error)
      return
    }
    const settle = (): void => {
      for (const [i, item] of group.entries()) {
        const result = results[i]!
        if (result.ok) item.resolve(result.value)
        else item.reject(result.error)
      }
    }
    const durable = this.durable()
    if (!durable) return settle()
    durable.then(settle, (error: unknown) => {
      // Committed but not known to be durable: acknowledge none of it.
      for (const item of group) item.reject(error)
    })
  }
}
