import { keyOfText, stringOfText } from '../../streams/keyOfText.ts'

/**
 * Key order shared by the worker's mirror and the page's stores. It is the order of the streams
 * stores (KeyValueStore's keyId): strings as themselves, other keys by their JSON text, other keys
 * before strings (ids 'j…' before 's…'). The id is computed from a key, or from the changelog's
 * key text (its JSON).
 */
export const keyOrderId = (key: unknown): string =>
  typeof key === 'string' ? `s${key}` : `j${JSON.stringify(key)}`

export const textOrderId = (keyText: string): string =>
  keyText.startsWith('"') ? `s${stringOfText(keyText)}` : `j${keyText}`

export { keyOfText }

/** The id bounds of a range (inclusive; an open end is unbounded). */
export function idBounds(range: { from?: unknown; to?: unknown } | undefined): {
  lo: string | undefined
  hi: string | undefined
} {
  return {
    lo: range?.from === undefined ? undefined : keyOrderId(range.from),
    hi: range?.to === undefined ? undefined : keyOrderId(range.to),
  }
}

export const inBounds = (id: string, lo: string | undefined, hi: string | undefined): boolean =>
  (lo === undefined || id >= lo) && (hi === undefined || id <= hi)

/** The first index of `sorted` whose id is >= `id` (binary search). */
export function lowerBound(sorted: readonly string[], id: string): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! < id) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * The id prefix shared by every window of `key` in a windowed store, whose keys are
 * `{ key, window: { start, end } }` (TimeWindowedKStream, SessionWindowedKStream): all windows
 * of one key are adjacent in key order.
 */
export const windowsPrefix = (key: unknown): string =>
  `j${JSON.stringify({ key }).slice(0, -1)},"window":`
