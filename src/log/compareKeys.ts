import type { Key } from './LogStorage.ts'

const rank = (k: Key): number => (typeof k === 'number' ? 1 : typeof k === 'string' ? 2 : 3)

/** IndexedDB's key order (indexedDB.cmp): numbers < strings < arrays; arrays element-wise. */
export function compareKeys(a: Key, b: Key): number {
  const ra = rank(a)
  const rb = rank(b)
  if (ra !== rb) return ra - rb
  if (ra === 3) {
    const x = a as Key[]
    const y = b as Key[]
    const n = Math.min(x.length, y.length)
    for (let i = 0; i < n; i++) {
      const c = compareKeys(x[i]!, y[i]!)
      if (c !== 0) return c
    }
    return x.length - y.length
  }
  return a < b ? -1 : a > b ? 1 : 0
}
