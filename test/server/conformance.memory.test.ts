import { memoryServerStorage } from '../../src/server/index.ts'
import { runConformance } from './support/runConformance.ts'

runConformance(() => ({ storage: memoryServerStorage() }))
