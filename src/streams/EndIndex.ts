/**
 * Items grouped by a time (a window's end), taken out in time order. Window ends are aligned, so
 * there are few distinct times: closing or expiring windows costs nothing while none is due.
 */
export class EndIndex<T> {
  private readonly groups = new Map<number, Map<string, T>>()
  private readonly times: number[] = []

  add(time: number, id: string, item: T): void {
    let group = this.groups.get(time)
    if (!group) {
      this.groups.set(time, (group = new Map()))
      // Insert in order; new times are nearly always the largest.
      let i = this.times.length
      while (i > 0 && this.times[i - 1]! > time) i--
      this.times.splice(i, 0, time)
    }
    group.set(id, item)
  }

  clear(): void {
    this.groups.clear()
    this.times.length = 0
  }

  delete(time: number, id: string): void {
    this.groups.get(time)?.delete(id)
  }

  /**
   * Removes and returns every item whose time is <= `limit`, oldest first and, within one time, by
   * id: the order depends only on what is there, not on when it came, so it is the same after a
   * restore from changelogs as in an uninterrupted run.
   */
  takeUpTo(limit: number): T[] {
    const out: T[] = []
    while (this.times.length > 0 && this.times[0]! <= limit) {
      const time = this.times.shift()!
      const group = [...this.groups.get(time)!].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      for (const [, item] of group) out.push(item)
      this.groups.delete(time)
    }
    return out
  }
}
