import type { StreamRow } from './ServerStorage.ts'

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

  /** After a commit: resolves once it is durable; undefined when it already is. */
  committed(): Promise<void> | undefined {
    if (!this.flushStorage) return undefined
    const generation = this.generation++
    return this.flushStorage().then(() => {
      for (const [id, list] of this.pending) {
        while (list[0] && list[0].generation <= generation) list.shift()
        if (list.length === 0) this.pending.delete(id)
      }
    })
  }
}
