import { TopologyError } from '../log/errors.ts'
import type { Log } from '../log/Log.ts'
import type { StateStore, Topology } from './Topology.ts'
import { VersionedKeyValueStore } from './VersionedKeyValueStore.ts'

/** Kafka's extra compaction lag of versioned changelogs, beyond the history retention: a day. */
export const VERSIONED_CHANGELOG_EXTRA_LAG_MS = 24 * 60 * 60 * 1000

/**
 * A store's changelog config: compacted; a versioned store's also keeps every record for its
 * history retention plus a day (min.compaction.lag.ms), as Kafka's InternalTopicManager sets it
 * for versioned changelogs, so compaction never takes a version the history still needs.
 */
export function changelogConfig(store: StateStore): { name: string; value: string }[] {
  const entries = [{ name: 'cleanup.policy', value: 'compact' }]
  if (store instanceof VersionedKeyValueStore)
    entries.push({
      name: 'min.compaction.lag.ms',
      value: String(store.historyRetentionMs + VERSIONED_CHANGELOG_EXTRA_LAG_MS),
    })
  return entries
}

/**
 * Decides how many partitions each repartition topic gets, and checks that every join's inputs
 * are co-partitioned, as Kafka Streams does before it starts (its CopartitionedTopicsEnforcer):
 * - a repartition topic with a count asked for keeps it;
 * - one joined with user topics takes their count;
 * - any other takes the largest count among the user topics that feed it.
 * Then every join's topics must have one count, or the topology is refused with a TopologyError.
 * `partitionsOf` knows the user topics' counts.
 */
export function planInternalTopics(
  topology: Topology,
  partitionsOf: (topic: string) => number,
): Map<string, number> {
  const internal = topology.internalTopics
  const counts = new Map<string, number>()
  for (const [name, { partitions }] of internal) if (partitions) counts.set(name, partitions)
  const groups = topology.copartitionGroups()
  // Joined with user topics: take their count (a fixed point over chains of joins).
  for (let changed = true; changed;) {
    changed = false
    for (const group of groups) {
      const known = group.find((t) => !internal.has(t) || counts.has(t))
      if (known === undefined) continue
      const count = internal.has(known) ? counts.get(known)! : partitionsOf(known)
      for (const t of group) {
        if (internal.has(t) && !counts.has(t)) {
          counts.set(t, count)
          changed = true
        }
      }
    }
  }
  // Not joined: as many partitions as the largest user topic upstream of its sink.
  const reach = topology.upstreamTopics()
  for (const name of internal.keys()) {
    if (counts.has(name)) continue
    const feeding = new Set<string>()
    for (const [node, topics] of reach) {
      if (node.sinkTopic === name) for (const t of topics) feeding.add(t)
    }
    const external = [...feeding].filter((t) => !internal.has(t))
    counts.set(name, Math.max(1, ...external.map(partitionsOf)))
  }
  const countOf = (t: string) => (internal.has(t) ? counts.get(t)! : partitionsOf(t))
  for (const group of groups) {
    if (new Set(group.map(countOf)).size > 1) {
      const listed = group.map((t) => `${t} (${countOf(t)} partitions)`).join(', ')
      throw new TopologyError(
        `Topics not co-partitioned: [${listed}]. A join reads the same key from the same ` +
          `partition of each input, so they need the same number of partitions: repartition one ` +
          `side (stream.repartition({ numberOfPartitions })) or recreate a topic.`,
      )
    }
  }
  return counts
}

/**
 * Checks the inputs exist and joins are co-partitioned, then creates the changelog and
 * repartition topics (Kafka's internal topics) under the names the runtime gives them.
 */
export async function createInternalTopics(
  log: Log,
  topology: Topology,
  names: { changelog: (store: string) => string; internal: (topic: string) => string },
): Promise<void> {
  const admin = log.admin()
  const internal = topology.internalTopics
  const external = topology.inputTopics().filter((t) => !internal.has(t))
  // An unknown input topic fails here, with its name (Kafka's MissingSourceTopicException).
  const { topics } = await admin.fetchTopicMetadata({ topics: external })
  const partitions = new Map(topics.map((t) => [t.name, t.partitions.length]))
  const plan = planInternalTopics(topology, (t) => partitions.get(t)!)
  const specs = [
    ...[...topology.stores].map(([s, store]) => ({
      topic: names.changelog(s),
      configEntries: changelogConfig(store),
    })),
    ...[...plan].map(([name, numPartitions]) => ({ topic: names.internal(name), numPartitions })),
  ]
  if (specs.length > 0) await admin.createTopics({ ifNotExists: true, topics: specs })
  for (const [name, wanted] of plan) {
    const [meta] = (await admin.fetchTopicMetadata({ topics: [names.internal(name)] })).topics
    if (meta!.partitions.length !== wanted) {
      throw new TopologyError(
        `Repartition topic ${meta!.name} has ${meta!.partitions.length} partitions but the topology needs ${wanted}`,
      )
    }
  }
}
