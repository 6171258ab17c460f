/// <reference lib="webworker" />
import { serve } from '../../src/worker/index.ts'

// A served worker whose storage asks to be persisted (`serve({ storage: { persist: true } })`),
// and whose IndexedDB a test can make refuse writes for want of space: real Chromium will not
// fill a disk for a test (Playwright's contexts are off the record, where its quota override is
// ignored), so the refusal is raised where the browser raises it, at the object store's put.
const [name, persist] = self.name.split('|') as [string, string]
const realPut = IDBObjectStore.prototype.put
new BroadcastChannel(`${name}:disk`).onmessage = (event) => {
  IDBObjectStore.prototype.put =
    event.data === 'full'
      ? function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
          if (this.name === 'batches')
            throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
          return realPut.apply(this, args)
        }
      : realPut
}
void serve({ name, storage: { persist: persist === 'persist' } })
