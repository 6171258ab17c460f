// duality/worker: serve the log from your own worker file, connect to it from the page.
export { serve, type ServeOptions, type Served, type StorageOptions } from './serve.ts'
export type { StorageStatus } from './storageStatus.ts'
export {
  connect,
  type Client,
  type ClientConsumer,
  type ClientProducer,
  type RemoteApi,
} from './connect.ts'
export {
  createWorkerApi,
  type WorkerApi,
  type DeliveredBatch,
  type DeliveryReport,
  type Settled,
  type PageSyncStatus,
} from './workerApi.ts'
export { lockMembership, type LockMembershipOptions } from './lockMembership.ts'
export { tabBridge } from './tabBridge.ts'
export { installErrorTransfer } from './errorTransfer.ts'
export { changelogView, type ViewSpec } from './views/createViewsApi.ts'
export type * from './views/viewWire.ts'
// A snapshot message's entries, for code reading views straight from the worker API.
export { packSnapshot, snapshotEntries } from './views/viewWire.ts'
