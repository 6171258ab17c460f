import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sqliteServerStorage } from '../../src/server/engines/sqlite/index.ts'
import { runConformance } from './support/runConformance.ts'

runConformance(() => {
  const dir = mkdtempSync(join(tmpdir(), 'duality-conformance-'))
  return {
    storage: sqliteServerStorage({ filename: join(dir, 'streams.db') }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
})
