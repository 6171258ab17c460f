import { idbStorage, type IdbStorage } from '../../src/storage/idb/index.ts'
import { describe, expect, test } from 'vitest'
import { logContract } from '../contract/logContract.ts'

// Real IndexedDB in headless Chromium, the same contract as memory and fake-indexeddb.
const run = `${Date.now()}-${Math.random().toString(36).slice(2)}`
let n = 0
logContract(
  'Chromium IndexedDB',
  {
    create: () => idbStorage({ name: `contract-${run}-${n++}` }),
    reopen: async (closed) => idbStorage({ name: (closed as IdbStorage).db.name }),
  },
  { describe, test, expect },
)
