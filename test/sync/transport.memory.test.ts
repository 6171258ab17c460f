import { memoryStorage, memoryTransport, openLog } from '../../src/index.ts'
import { transportContract } from '../contract/transportContract.ts'

transportContract(async () => {
  const server = await openLog({ storage: memoryStorage(), cleaner: false })
  return {
    transport: memoryTransport(server, { pollMs: 1000 }),
    createTopic: async (spec) => void (await server.admin().createTopics({ topics: [spec] })),
    deleteTopic: (topic) => server.admin().deleteTopics({ topics: [topic] }),
    close: () => server.close(),
  }
})
