import type { ProducerMessage, RecordMetadata } from '../log/Producer.ts'
import type { Client } from '../worker/connect.ts'

/** Per-record options of an append (the producer message's fields other than the value). */
export type AppendOptions = Omit<ProducerMessage, 'value'>

/**
 * The typed "append this event" helper of a UI: `Events` maps topic names to their event types.
 * It resolves with the record's partition and offset once its transaction has committed (the
 * client's send does; this only types it and takes one event). The view then changes because the
 * log did: an append is how a UI changes state.
 *
 *   const append = createAppend<{ payments: { user: string; amount: number } }>(client)
 *   await append('payments', { user: 'ada', amount: 3 }, { key: 'ada' })
 */
export function createAppend<Events extends Record<string, unknown>>(client: Client) {
  const producer = client.producer()
  return async <T extends keyof Events & string>(
    topic: T,
    event: Events[T],
    options: AppendOptions = {},
  ): Promise<RecordMetadata> => {
    const [meta] = await producer.send({ topic, messages: [{ ...options, value: event }] })
    return meta!
  }
}
