// `npm run demo`: the server (data in ./.demo-data), the topics, the rate feeder and the page.
import { resolve } from 'node:path'
import { startDemo } from './startDemo.ts'

const demo = await startDemo({ dataDir: resolve('.demo-data'), feederMs: 5_000 })
console.log(
  `\n  duality demo: ${demo.url}\n  server log:   ${demo.server.url} (data in .demo-data)\n`,
)
const stop = () => {
  void demo.close().then(() => process.exit(0))
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
