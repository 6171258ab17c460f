import 'fake-indexeddb/auto'
import { idbStorage, type IdbStorage } from '../../src/storage/idb/index.ts'
import { describe, expect, test } from 'vitest'
import { logContract } from '../contract/logContract.ts'

let n = 0
logContract(
  'fake-indexeddb',
  {
    create: () => idbStorage({ name: `contract-${n++}` }),
    reopen: async (closed) => idbStorage({ name: (closed as IdbStorage).db.name }),
  },
  { describe, test, expect },
)
