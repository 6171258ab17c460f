import type { ProducerState } from './streamRows.ts'

/** What the protocol's idempotent-producer rules (PROTOCOL.md §5.2.1) say about one append. */
export type ProducerVerdict =
  | { kind: 'accept'; state: ProducerState }
  | { kind: 'duplicate'; lastSeq: number }
  | { kind: 'staleEpoch'; currentEpoch: number }
  | { kind: 'invalidEpochSeq' }
  | { kind: 'sequenceGap'; expected: number; received: number }

/**
 * Kafka's idempotent producer, as the protocol states it: a higher epoch fences the old one and
 * must start at seq 0; within an epoch a seq at or below the last is a duplicate (a retry) and one
 * beyond last + 1 is a gap.
 */
export function checkProducer(
  state: ProducerState | undefined,
  epoch: number,
  seq: number,
  now: number,
): ProducerVerdict {
  if (!state || epoch > state.epoch) {
    if (seq !== 0) {
      return state
        ? { kind: 'invalidEpochSeq' }
        : { kind: 'sequenceGap', expected: 0, received: seq }
    }
    return { kind: 'accept', state: { epoch, lastSeq: 0, updatedAt: now } }
  }
  if (epoch < state.epoch) return { kind: 'staleEpoch', currentEpoch: state.epoch }
  if (seq <= state.lastSeq) return { kind: 'duplicate', lastSeq: state.lastSeq }
  if (seq === state.lastSeq + 1) {
    return { kind: 'accept', state: { epoch, lastSeq: seq, updatedAt: now } }
  }
  return { kind: 'sequenceGap', expected: state.lastSeq + 1, received: seq }
}
