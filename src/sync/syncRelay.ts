import type { Rejection } from './rejections.ts'
import type { Connection, SyncEvent } from './Sync.ts'

/**
 * What the tab that runs sync tells the other tabs (over a BroadcastChannel), so that every tab
 * shows the same status and hears the same notices. Errors travel as their JSON form.
 */
export type SyncRelay =
  | {
      type: 'status'
      connection: Connection
      upToDate: Record<string, boolean>
      errors: Record<string, { code: string; message: string } | null>
    }
  | {
      type: 'rejected'
      topic: string
      partition: number
      offset: number
      error: { code: string; message: string }
      rejections: Rejection[]
    }
  | { type: 'reset'; topic: string }
  /** A tab that starts asks the syncing tab for its current status. */
  | { type: 'ask' }

export function toRelay(event: SyncEvent): SyncRelay {
  if (event.type === 'status') {
    const topics = Object.entries(event.status.topics)
    return {
      type: 'status',
      connection: event.status.connection,
      upToDate: Object.fromEntries(topics.map(([t, s]) => [t, s.upToDate])),
      errors: Object.fromEntries(topics.map(([t, s]) => [t, s.error ? s.error.toJSON() : null])),
    }
  }
  if (event.type === 'rejected') return { ...event, error: event.error.toJSON() }
  return event
}
