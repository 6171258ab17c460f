import { ProcessingError } from '../log/errors.ts'
import type { RecordHeaders } from '../log/record.ts'

/** A record inside a topology: key and value already deserialised. */
export interface StreamRecord<K = unknown, V = unknown> {
  key: K
  value: V
  timestamp: number
  headers: RecordHeaders | null
}

/** What a KTable forwards: the new value of a key and the one it replaced (null: none / deleted). */
export interface Change<V> {
  newValue: V | null
  oldValue: V | null
}

/** A node of the processor graph. Processing is synchronous and depth-first, as in Kafka Streams. */
export interface ProcessorNode {
  readonly name: string
  readonly children: ProcessorNode[]
  process(record: StreamRecord): void
  /** Set on a node that sends to a repartition topic: the topic. */
  sinkTopic?: string
  /**
   * Set on a node whose output keys differ from its input keys (map, selectKey, groupBy...). Kafka
   * would put a repartition topic after it before a join or an aggregation, so the topics before
   * it impose no co-partitioning.
   */
  keyChanging?: boolean
}

export function forward(node: ProcessorNode, record: StreamRecord): void {
  for (const child of node.children) child.process(record)
}

/**
 * A node whose behaviour is `body`, which forwards to the node's children through `emit`. A throw
 * from the body (a user function) becomes a ProcessingError naming this node; one from a child
 * already is one, and passes through unchanged.
 */
export function createNode(
  name: string,
  body: (record: StreamRecord, emit: (record: StreamRecord) => void) => void,
): ProcessorNode {
  const node: ProcessorNode = {
    name,
    children: [],
    process: (record) => {
      try {
        body(record, (out) => forward(node, out))
      } catch (error) {
        throw error instanceof ProcessingError ? error : ProcessingError.of(name, error)
      }
    },
  }
  return node
}

/** Kafka Streams' KeyValue.pair. */
export interface KeyValue<K, V> {
  key: K
  value: V
}

export const KeyValue = {
  pair: <K, V>(key: K, value: V): KeyValue<K, V> => ({ key, value }),
}
