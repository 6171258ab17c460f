import { JetStreamEngine } from '../../src/server/engines/jetstream/index.ts'
import { startNatsServer } from './support/natsServer.ts'
import { runConformance } from './support/runConformance.ts'

runConformance(async () => {
  const nats = await startNatsServer()
  return {
    engine: await JetStreamEngine.connect({ servers: nats.url }),
    cleanup: () => nats.stop(),
  }
})
