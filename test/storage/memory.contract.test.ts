import { memoryStorage, type MemoryStorage } from '../../src/index.ts'
import { describe, expect, test } from 'vitest'
import { logContract } from '../contract/logContract.ts'

logContract(
  'memory',
  {
    create: async () => memoryStorage(),
    reopen: async (closed) => memoryStorage({ database: (closed as MemoryStorage).database }),
  },
  { describe, test, expect },
)
