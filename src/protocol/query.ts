/** Query parameters of a read (PROTOCOL.md §5.5-5.7). */
export const Q = {
  offset: 'offset',
  live: 'live',
  cursor: 'cursor',
} as const

/** The live modes of a read: a long-poll (§5.6) or Server-Sent Events (§5.7). */
export type LiveMode = 'long-poll' | 'sse'

export const isLiveMode = (value: string | null): value is LiveMode =>
  value === 'long-poll' || value === 'sse'
