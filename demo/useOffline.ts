import { useSyncExternalStore } from 'react'
import { isOffline, setOffline } from './network.ts'

const LOCAL_CHANGE = 'duality-demo:offline-changed'

function subscribe(onChange: () => void): () => void {
  // 'storage' fires in the other tabs; the local event in this one.
  window.addEventListener('storage', onChange)
  window.addEventListener(LOCAL_CHANGE, onChange)
  return () => {
    window.removeEventListener('storage', onChange)
    window.removeEventListener(LOCAL_CHANGE, onChange)
  }
}

/** The offline switch's position, shared by every tab (it lives in localStorage, not the log). */
export function useOffline(): [boolean, (offline: boolean) => void] {
  const offline = useSyncExternalStore(subscribe, isOffline)
  return [
    offline,
    (next) => {
      setOffline(next)
      window.dispatchEvent(new Event(LOCAL_CHANGE))
    },
  ]
}
