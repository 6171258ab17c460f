import * as duality from '../../../src/index.ts'
import * as idb from '../../../src/storage/idb/index.ts'

// The page exposes the library to page.evaluate, as an app's own code would import it.
declare global {
  interface Window {
    duality: typeof duality & typeof idb
    ready: boolean
  }
}
window.duality = { ...duality, ...idb }
window.ready = true
