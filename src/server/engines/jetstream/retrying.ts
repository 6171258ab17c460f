/** Another server changed what an operation read: the operation starts over from fresh state. */
export class Conflict extends Error {}

/**
 * Runs `attempt` until it finishes without a Conflict (optimistic concurrency against a shared
 * store). Backs off with jitter so contending servers take turns instead of colliding again.
 */
export async function retrying<T>(attempt: () => Promise<T>, attempts = 300): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt()
    } catch (error) {
      if (!(error instanceof Conflict) || i >= attempts) throw error
      const ms = Math.min(100, i) * Math.random()
      await new Promise((resolve) => setTimeout(resolve, ms))
    }
  }
}
