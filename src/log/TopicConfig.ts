import { InvalidConfigError } from './errors.ts'

/** A topic's configuration, Kafka's names, parsed and with defaults applied. */
export interface TopicConfig {
  /** `cleanup.policy`: 'delete' (retention), 'compact', or both. */
  'cleanup.policy': 'delete' | 'compact' | 'compact,delete'
  /** `retention.ms`: segments whose newest record is older are deleted; -1 keeps forever. */
  'retention.ms': number
  /** `retention.bytes`: per partition; oldest segments go while the log is larger; -1 = no limit. */
  'retention.bytes': number
  /** `segment.bytes`: the active segment rolls before a record that would take it past this. */
  'segment.bytes': number
  /** `segment.records` (duality's own): the active segment rolls after this many records. */
  'segment.records': number
  /**
   * `segment.ms`: the active segment rolls once it is this old (from its first record), at the next
   * append or, unlike Kafka, at the cleaner's next run if no append comes.
   */
  'segment.ms': number
  /** `delete.retention.ms`: how long tombstones live after the first cleaning that saw them. */
  'delete.retention.ms': number
  /** `min.compaction.lag.ms`: records younger than this are never compacted. */
  'min.compaction.lag.ms': number
  /** `min.cleanable.dirty.ratio`: the background cleaner only cleans logs dirtier than this (as Kafka). */
  'min.cleanable.dirty.ratio': number
  /** `max.message.bytes`: the largest record (key + value + headers) the topic takes. */
  'max.message.bytes': number
  /**
   * `message.timestamp.after.max.ms`: how far past the broker's clock a record's own timestamp
   * may be (Kafka 4's default, 1 h). Checked by the server: one record stamped far in the future
   * would otherwise hold compaction and time retention back behind it for as long.
   */
  'message.timestamp.after.max.ms': number
}

export type TopicConfigName = keyof TopicConfig

const DAY = 24 * 60 * 60 * 1000

/**
 * Defaults are Kafka's, except `segment.bytes`: a browser log is small and retention works in whole
 * segments, so 1 MiB instead of Kafka's 1 GiB.
 */
export const defaultTopicConfig: Readonly<TopicConfig> = Object.freeze({
  'cleanup.policy': 'delete',
  'retention.ms': 7 * DAY,
  'retention.bytes': -1,
  'segment.bytes': 1024 * 1024,
  'segment.records': Number.MAX_SAFE_INTEGER,
  'segment.ms': 7 * DAY,
  'delete.retention.ms': DAY,
  'min.compaction.lag.ms': 0,
  'min.cleanable.dirty.ratio': 0.5,
  'max.message.bytes': 1024 * 1024 + 12,
  'message.timestamp.after.max.ms': 60 * 60 * 1000,
})

type Check = (value: number) => boolean
const integer =
  (min: number): Check =>
  (v) =>
    Number.isSafeInteger(v) && v >= min
const retention: Check = (v) => v === -1 || (Number.isSafeInteger(v) && v >= 0)

const numeric: Record<Exclude<TopicConfigName, 'cleanup.policy'>, [Check, string]> = {
  'retention.ms': [retention, 'an integer >= 0, or -1 for no limit'],
  'retention.bytes': [retention, 'an integer >= 0, or -1 for no limit'],
  'segment.bytes': [integer(1024), 'an integer >= 1024'],
  'segment.records': [integer(1), 'an integer >= 1'],
  'segment.ms': [integer(1), 'an integer >= 1'],
  'delete.retention.ms': [integer(0), 'an integer >= 0'],
  'min.compaction.lag.ms': [integer(0), 'an integer >= 0'],
  'min.cleanable.dirty.ratio': [(v) => v >= 0 && v <= 1, 'a number between 0 and 1'],
  'max.message.bytes': [integer(0), 'an integer >= 0'],
  'message.timestamp.after.max.ms': [integer(0), 'an integer >= 0'],
}

const policies = new Map<string, TopicConfig['cleanup.policy']>([
  ['delete', 'delete'],
  ['compact', 'compact'],
  ['compact,delete', 'compact,delete'],
  ['delete,compact', 'compact,delete'],
])

export interface ConfigEntry {
  name: string
  value: string | number
}

/** Parses KafkaJS-style `configEntries`; throws InvalidConfigError naming the bad entry. */
export function parseTopicConfig(topic: string, entries: readonly ConfigEntry[] = []): TopicConfig {
  const config: TopicConfig = { ...defaultTopicConfig }
  for (const entry of entries) {
    const { name } = entry
    const raw = String(entry.value).trim()
    if (name === 'cleanup.policy') {
      const policy = policies.get(raw.replace(/\s+/g, ''))
      if (!policy) {
        throw new InvalidConfigError(
          `Topic "${topic}": cleanup.policy must be delete, compact or compact,delete, not "${raw}"`,
        )
      }
      config['cleanup.policy'] = policy
      continue
    }
    const rule = Object.hasOwn(numeric, name) ? numeric[name as keyof typeof numeric] : undefined
    if (!rule) {
      throw new InvalidConfigError(
        `Topic "${topic}": unknown config "${name}". Known: ${Object.keys(defaultTopicConfig).join(', ')}`,
      )
    }
    const value = raw === '' ? NaN : Number(raw)
    if (!rule[0](value)) {
      throw new InvalidConfigError(`Topic "${topic}": ${name} must be ${rule[1]}, not "${raw}"`)
    }
    config[name as keyof typeof numeric] = value
  }
  return config
}

export function isCompacted(config: TopicConfig): boolean {
  return config['cleanup.policy'] !== 'delete'
}

export function hasRetention(config: TopicConfig): boolean {
  return config['cleanup.policy'] !== 'compact'
}
