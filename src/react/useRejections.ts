import { useCallback, useSyncExternalStore } from 'react'
import type { Rejection } from '../sync/rejections.ts'
import { useSyncStore } from './useSyncStatus.ts'

const none: Rejection[] = []

/**
 * The sends of a synced topic the server refused for good (its `authorize` said no, a record it
 * cannot take, a failed expectation, too large), oldest first, each with its record and the
 * server's reason; and `dismiss` to remove those the app has dealt with (all without arguments).
 * The list is the same in every tab and survives reloads until dismissed.
 *
 *   const { rejections, dismiss } = useRejections('payments')
 */
export function useRejections(topic: string): {
  rejections: Rejection[]
  dismiss: (which?: readonly { partition: number; offset: number }[]) => Promise<void>
} {
  const store = useSyncStore()
  const read = useCallback(
    () => store?.getState()?.topics[topic]?.rejections ?? none,
    [store, topic],
  )
  const rejections = useSyncExternalStore(store?.subscribe ?? noSubscribe, read, read)
  const dismiss = useCallback(
    (which?: readonly { partition: number; offset: number }[]) =>
      store ? store.dismiss(topic, which) : Promise.resolve(),
    [store, topic],
  )
  return { rejections, dismiss }
}

const noSubscribe = () => () => undefined
