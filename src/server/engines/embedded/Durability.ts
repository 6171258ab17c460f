import type { StreamRow } from '../../engine/streamRows.ts'

interface Before {
  /** The flush generation of the first write not yet durable. */
  generation: number
  row: StreamRow
}

/**
 * Writes that commit before they are durable (a storage with `flush`) must be neither
 * acknowledged nor shown to readers until a flush that began after them has finished: a reader
 * that saw a record a power cut then took away could copy an offset the server later reuses
 * (sync's replicas mirror offsets). So each stream remembers its state before its first write
 * that is not yet durable, and readers see that state until the flush covers it. Without a
 * storage flush every method is a no-op.
 */
export class Durability {
  private generation = 0
  private readonly pending = new Map<number, Before[]>()
  /** Paths created or deleted by a write not yet durable, with that write's generation. */
  private readonly replaced = new Map<string, number>()
  /** The flush of each generation still running. */
  private readonly flushes = new Map<number, Promise<void>>()

  constructor(private readonly flushStorage: (() => Promise<void>) | undefined) {}

  /** Call with a stream's row as it is just before a write changes its tail or closes it. */
  changing(row: StreamRow): void {
    if (!this.flushStorage) return
    const list = this.pending.get(row.id)
    if (!list) this.pending.set(row.id, [{ generation: this.generation, row }])
    else if (list[list.length - 1]!.generation !== this.generation) {
      list.push({ generation: this.generation, row })
    }
  }

  /** The stream as readers may see it: as of its last durable write. */
  visible(row: StreamRow): StreamRow {
    const before = this.pending.get(row.id)?.[0]?.row
    if (!before) return row
    return {
      ...row,
      nextOffset: before.nextOffset,
      closed: before.closed,
      closedBy: before.closedBy,
    }
  }

  /**
   * Resolves once the latest creation or deletion of the stream at `path` is durable; undefined
   * when it already is. A reader waits for it rather than show a stream (or its absence) that
   * a power cut could undo; it cannot be shown "as before", since the rows are already gone.
   */
  settled(path: string): Promise<void> | undefined {
    const generation = this.replaced.get(path)
    if (generation === undefined) return undefined
    // Its own flush failed: a new one, which begins after the write, decides.
    return (
      this.flushes.get(generation) ??
      this.flushStorage!().then(() => this.forgetReplaced(generation))
    )
  }

  /**
   * Like `settled`, for every path that starts with `prefix` (one topic's partitions): resolves
   * once the newest of their pending creations and deletions is durable.
   */
  settledUnder(prefix: string): Promise<void> | undefined {
    let newest: string | undefined
    let generation = -1
    for (const [p, g] of this.replaced) {
      if (p.startsWith(prefix) && g > generation) [newest, generation] = [p, g]
    }
    return newest === undefined ? undefined : this.settled(newest)
  }

  /** Whether the latest creation or deletion of the stream at `path` is not durable yet. */
  replacing(path: string): boolean {
    return this.replaced.has(path)
  }

  /** After a flush that began after them: creations and deletions up to `generation` are durable. */
  private forgetReplaced(generation: number): void {
    for (const [path, g] of this.replaced) if (g <= generation) this.replaced.delete(path)
  }

  /**
   * After a commit: resolves once it is durable; undefined when it already is. `replacedPaths`
   * are the streams the commit created or deleted (see `settled`).
   */
  committed(replacedPaths: readonly string[] = []): Promise<void> | undefined {
    if (!this.flushStorage) return undefined
    const generation = this.generation++
    for (const path of replacedPaths) this.replaced.set(path, generation)
    const flushed = this.flushStorage().then(() => {
      for (const [id, list] of this.pending) {
        while (list[0] && list[0].generation <= generation) list.shift()
        if (list.length === 0) this.pending.delete(id)
      }
      this.forgetReplaced(generation)
    })
    this.flushes.set(generation, flushed)
    // A failed flush leaves its writes hidden until a later flush covers them.
    const done = (): void => void this.flushes.delete(generation)
    flushed.then(done, done)
    return flushed
  }
}
