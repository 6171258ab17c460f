import type { Client, RemoteNamespace } from '../worker/connect.ts'
import type { WorkerApi } from '../worker/workerApi.ts'

export type RemoteViews = RemoteNamespace<WorkerApi['views']>

/** The worker's `views` namespace as the page calls it (comlink forwards any property path). */
export const remoteViews = (client: Client): RemoteViews =>
  client.remote.views as unknown as RemoteViews
