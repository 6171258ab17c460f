import type { MirrorChange } from './ViewMirror.ts'
import type { DiffMessage, WireEntry } from './viewWire.ts'

/** Runs `callback` at the next frame; absent requestAnimationFrame (Node, tests), the next task. */
export type FrameScheduler = (callback: () => void) => void

/**
 * The next animation frame where the worker has one (Chromium's dedicated workers do), with a
 * timer as a floor: a hidden tab's frames may stop, and its views should still move, slowly.
 */
export const nextFrame: FrameScheduler = (callback) => {
  const raf = (globalThis as { requestAnimationFrame?: (cb: () => void) => number })
    .requestAnimationFrame
  if (!raf) {
    setTimeout(callback, 0)
    return
  }
  let done = false
  const once = () => {
    if (done) return
    done = true
    clearTimeout(timer)
    callback()
  }
  const timer = setTimeout(once, 100)
  raf(once)
}

/**
 * Merges a subscription's changes into diffs, at most one message per frame. The first change after
 * a quiet frame goes at the end of the current task (a lone append should reach the page within a
 * couple of ms, not wait up to a frame); changes arriving while that frame is still running are
 * merged by key and go together at the next frame. So a burst of appends costs the page one
 * message and one store update per frame, and never one per record.
 */
export class FrameBatcher {
  private from: number[] | null = null
  private to: number[] = []
  private readonly changes = new Map<string, WireEntry | null>()
  private scheduled = false
  private coolingDown = false
  private closed = false

  constructor(
    private readonly send: (diff: DiffMessage) => void,
    private readonly schedule: FrameScheduler = nextFrame,
  ) {}

  push(change: Pick<MirrorChange, 'from' | 'to' | 'changes'>): void {
    if (this.closed) return
    this.from ??= change.from
    this.to = change.to
    for (const [key, entry] of change.changes) this.changes.set(key, entry)
    // Offsets that moved with no change for this subscriber (a range elsewhere) wait for the next
    // real change: the page's state is right for them too, and a quiet range costs no messages.
    if (this.scheduled || this.coolingDown || this.changes.size === 0) return
    this.scheduled = true
    queueMicrotask(() => this.flush())
  }

  /** Drops what is pending (a snapshot is about to replace it). */
  clear(): void {
    this.from = null
    this.changes.clear()
  }

  close(): void {
    this.closed = true
    this.clear()
  }

  private flush(): void {
    this.scheduled = false
    if (this.closed || this.from === null) return
    const puts: WireEntry[] = []
    const deletes: string[] = []
    for (const [key, entry] of this.changes) {
      if (entry === null) deletes.push(key)
      else puts.push(entry)
    }
    const diff: DiffMessage = { type: 'diff', from: this.from, to: this.to, puts, deletes }
    this.clear()
    this.send(diff)
    this.coolingDown = true
    this.schedule(() => {
      this.coolingDown = false
      if (this.changes.size > 0) this.flush()
    })
  }
}
