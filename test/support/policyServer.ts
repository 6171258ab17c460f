import { memoryServerStorage } from '../../src/server/index.ts'
import { serve, type RunningServer } from '../../src/server/node/index.ts'
import type { AppOptions } from '../../src/server/http/createApp.ts'

/**
 * The real server over HTTP on a free port, with one user (`Bearer t`, principal `u`, so producer
 * ids start `u/`) whose appends its `authorize` refuses while `policy.appends` is false, and a
 * `payments` topic with the given partitions and config. Close it with `running.close()`.
 */
export async function policyServer(options: {
  numPartitions: number
  configEntries?: { name: string; value: string }[]
  /** Typed topics the server checks appends against (`serve({ schemas })`). */
  schemas?: AppOptions['schemas']
  /** How long a live read waits for records before an empty answer (server default 30 s). */
  longPollTimeoutMs?: number
}): Promise<{ running: RunningServer; policy: { appends: boolean } }> {
  const policy = { appends: true }
  const running = await serve({
    port: 0,
    storage: memoryServerStorage(),
    cleanerIntervalMs: 0,
    ...(options.schemas ? { schemas: options.schemas } : {}),
    ...(options.longPollTimeoutMs === undefined
      ? {}
      : { longPollTimeoutMs: options.longPollTimeoutMs }),
    authenticate: (request) =>
      request.headers.get('authorization') === 'Bearer t' ? { id: 'u' } : null,
    authorize: (_principal, _resource, action) => action !== 'append' || policy.appends,
  })
  await running.topics.createTopic('payments', {
    numPartitions: options.numPartitions,
    configEntries: options.configEntries ?? [],
  })
  return { running, policy }
}
