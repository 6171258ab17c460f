/// <reference lib="webworker" />
// The demo's worker, "Spending abroad": the log in IndexedDB (shared by every tab), the rates and
// payments synced with the duality server, and the topology whose named stores are the views.
import { httpTransport } from '../src/index.ts'
import { serve } from '../src/worker/index.ts'
import { switchableFetch } from '../demo/network.ts'
import { FX_RATES, PAYMENTS, spendingTopology } from '../demo/spending.ts'

void serve({
  name: 'duality-demo',
  topics: [FX_RATES, PAYMENTS],
  streams: { applicationId: 'spending', topology: spendingTopology() },
  sync: {
    topics: [FX_RATES.topic, PAYMENTS.topic],
    // The page's origin: the Vite dev server proxies /topics and /admin to the duality server.
    transport: httpTransport({ url: self.location.origin, fetch: switchableFetch() }),
  },
})
