import type { Log } from '../log/Log.ts'
import type { AppendEvent } from '../log/appendTransaction.ts'
import type { ChangelogPreview } from '../streams/ChangelogPreview.ts'

type BridgeMessage =
  | { type: 'append'; events: AppendEvent[] }
  | { type: 'topics' }
  | { type: 'preview'; preview: ChangelogPreview }

/**
 * Connects the Logs of every tab over one database: each commit is announced on a
 * BroadcastChannel, so consumers in other tabs wake within a frame instead of polling IndexedDB.
 * Changelog previews (a topology's batches before their commit) travel on the same channel, so a
 * tab hears a preview before the commit that confirms it: one sender's messages on one channel
 * arrive in order.
 */
export function tabBridge(
  log: Log,
  scope: string,
): {
  topicsChanged(): void
  /** Tells the other tabs' views about a batch of this tab's topology. */
  announce(preview: ChangelogPreview): void
  /** Calls `listener` with the other tabs' previews; returns an unsubscribe. */
  onPreview(listener: (preview: ChangelogPreview) => void): () => void
  close(): void
} {
  const previewListeners = new Set<(preview: ChangelogPreview) => void>()
  const channel = new BroadcastChannel(`duality:${scope}:log`)
  const off = log.onAppend((events, local) => {
    // Only our own commits: re-announcing what we heard would echo between tabs forever.
    if (local) channel.postMessage({ type: 'append', events } satisfies BridgeMessage)
  })
  channel.onmessage = (event: MessageEvent<BridgeMessage>) => {
    const message = event.data
    if (message.type === 'append') log.notifyAppended(message.events)
    else if (message.type === 'topics') log.forgetTopics()
    else if (message.type === 'preview')
      for (const listener of previewListeners) listener(message.preview)
  }
  return {
    topicsChanged: () => channel.postMessage({ type: 'topics' } satisfies BridgeMessage),
    announce: (preview) =>
      channel.postMessage({ type: 'preview', preview } satisfies BridgeMessage),
    onPreview(listener) {
      previewListeners.add(listener)
      return () => previewListeners.delete(listener)
    },
    close() {
      previewListeners.clear()
      off()
      channel.close()
    },
  }
}
