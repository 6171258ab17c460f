import type { Log } from '../log/Log.ts'
import type { AppendEvent } from '../log/appendTransaction.ts'

type BridgeMessage = { type: 'append'; events: AppendEvent[] } | { type: 'topics' }

/**
 * Connects the Logs of every tab over one database: each commit is announced on a
 * BroadcastChannel, so consumers in other tabs wake within a frame instead of polling IndexedDB.
 * Returns a function that disconnects.
 */
export function tabBridge(log: Log, scope: string): { topicsChanged(): void; close(): void } {
  const channel = new BroadcastChannel(`duality:${scope}:log`)
  const off = log.onAppend((events, local) => {
    // Only our own commits: re-announcing what we heard would echo between tabs forever.
    if (local) channel.postMessage({ type: 'append', events } satisfies BridgeMessage)
  })
  channel.onmessage = (event: MessageEvent<BridgeMessage>) => {
    const message = event.data
    if (message.type === 'append') log.notifyAppended(message.events)
    else if (message.type === 'topics') log.forgetTopics()
  }
  return {
    topicsChanged: () => channel.postMessage({ type: 'topics' } satisfies BridgeMessage),
    close() {
      off()
      channel.close()
    },
  }
}
