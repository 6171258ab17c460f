import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { memoryServerStorage } from '../../src/server/index.ts'
import { sqliteServerStorage } from '../../src/server/engines/sqlite/index.ts'
import { serverStorageContract } from '../contract/serverStorageContract.ts'

const dir = mkdtempSync(join(tmpdir(), 'duality-storage-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const files = new WeakMap<object, string>()

serverStorageContract('memory', { create: () => memoryServerStorage() })

serverStorageContract('sqlite', {
  create: () => {
    const filename = join(dir, `s${n++}.db`)
    const storage = sqliteServerStorage({ filename })
    files.set(storage, filename)
    return storage
  },
  reopen: (closed) => sqliteServerStorage({ filename: files.get(closed)! }),
})
