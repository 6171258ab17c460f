import { createElement as h, useState, type ReactNode } from 'react'
import { isCompacted } from '../log/TopicConfig.ts'
import { useClient } from '../react/DualityProvider.ts'
import { useSyncStatus } from '../react/useSyncStatus.ts'
import type { StorageStatus } from '../worker/storageStatus.ts'
import { RecordBrowser } from './RecordBrowser.ts'
import { TimeTravel } from './TimeTravel.ts'
import { useLogSnapshot, type TopicSnapshot } from './useLogSnapshot.ts'

export interface DevtoolsPanelProps {
  /**
   * Consumer groups to show (the log keeps offsets per group, not a list of groups): e.g. your
   * KafkaStreams applicationId.
   */
  groups?: string[]
  /** How often to re-read the log's state (default 1000 ms). */
  refreshMs?: number
  /** Internal topics (names starting with `__`, such as sync outboxes); shown by default. */
  showInternal?: boolean
  /**
   * A slider over this time range (ms) showing every view as it was at the chosen time
   * (viewAsOf): e.g. the first and last input records' times. Not shown without it.
   */
  timeTravel?: { from: number; to: number }
}

const table = (head: string[], rows: ReactNode[][]) =>
  h(
    'table',
    null,
    h('thead', null, h('tr', null, ...head.map((c) => h('th', { key: c }, c)))),
    h(
      'tbody',
      null,
      rows.map((cells, i) => h('tr', { key: i }, ...cells.map((c, j) => h('td', { key: j }, c)))),
    ),
  )

const kb = (bytes: number) => (bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`)

function compaction(t: TopicSnapshot): string {
  if (!isCompacted(t.config)) return t.config['cleanup.policy']
  const dirty = t.partitions.reduce((n, p) => n + Math.max(0, p.high - p.cleanedOffset), 0)
  return `${t.config['cleanup.policy']} (${dirty} not yet cleaned)`
}

/**
 * duality's devtools, for any app under a DualityProvider: the topics with their partitions,
 * offsets, sizes and compaction state; consumer groups with lag; sync status; the views and their
 * sizes; a record browser; and a button that runs the cleaner (retention and compaction) now.
 */
export function DevtoolsPanel(props: DevtoolsPanelProps) {
  const client = useClient()
  const { snapshot, refresh } = useLogSnapshot(client, props.groups ?? [], props.refreshMs ?? 1000)
  const sync = useSyncStatus()
  const [cleaning, setCleaning] = useState(false)
  if (!snapshot)
    return h('section', { className: 'duality-devtools' }, 'devtools: reading the log…')
  const topics = snapshot.topics.filter(
    (t) => props.showInternal !== false || !t.topic.startsWith('__'),
  )
  const byName = new Map(snapshot.topics.map((t) => [t.topic, t]))
  const runCleaner = async () => {
    setCleaning(true)
    try {
      await client.cleaner.run({ force: true })
    } finally {
      setCleaning(false)
      refresh()
    }
  }
  return h(
    'section',
    { className: 'duality-devtools', 'data-testid': 'devtools' },
    h(
      'h3',
      null,
      'Topics ',
      h(
        'button',
        { type: 'button', disabled: cleaning, onClick: () => void runCleaner() },
        cleaning ? 'compacting…' : 'Run compaction',
      ),
    ),
    table(
      ['topic', 'partition', 'start', 'end', 'size', 'compaction'],
      topics.flatMap((t) =>
        t.partitions.map((p) => [
          p.partition === 0 ? t.topic : '',
          p.partition,
          p.low,
          p.high,
          kb(p.bytes),
          p.partition === 0 ? compaction(t) : '',
        ]),
      ),
    ),
    h('h3', null, 'Consumer groups'),
    // Assignment: a topology runs as one unit of work per application (docs/streams.md), so the
    // tab that holds the group's lock owns every partition; the others stand by.
    table(
      ['group', 'topic', 'partition', 'committed', 'lag', 'assigned to'],
      snapshot.groups.flatMap((g) =>
        g.topics.map((t, i) => [
          i === 0 ? g.groupId : '',
          t.topic,
          t.partition,
          t.committed,
          t.lag,
          'the active tab',
        ]),
      ),
    ),
    h('h3', null, 'Storage'),
    h('p', { 'data-testid': 'devtools-storage' }, storageLine(snapshot.storage)),
    h('h3', null, `Sync: ${sync?.connection ?? 'not syncing'}`),
    sync &&
      table(
        ['topic', 'pending', 'lag', 'up to date', 'rejected'],
        Object.entries(sync.topics).map(([topic, s]) => [
          topic,
          s.pending,
          s.lag,
          s.upToDate ? 'yes' : 'no',
          s.rejections.length,
        ]),
      ),
    h('h3', null, 'Views'),
    table(
      ['view', 'changelog', 'records', 'size'],
      snapshot.views.map((v) => {
        const t = byName.get(v.topic)
        const records = t?.partitions.reduce((n, p) => n + p.high - p.low, 0) ?? 0
        const bytes = t?.partitions.reduce((n, p) => n + p.bytes, 0) ?? 0
        return [v.name, v.topic, records, kb(bytes)]
      }),
    ),
    props.timeTravel && h('h3', null, 'Views as of a time'),
    props.timeTravel &&
      h(TimeTravel, {
        client,
        views: snapshot.views.map((v) => v.name),
        ...props.timeTravel,
      }),
    h('h3', null, 'Records'),
    h(RecordBrowser, { client, topics: snapshot.topics }),
  )
}

/** "persisted, 1.2 MB of 2.0 GB used" (or what the browser does not say). */
function storageLine(storage: StorageStatus): string {
  const persisted =
    storage.persisted === null
      ? 'persistence unknown'
      : storage.persisted
        ? 'persisted'
        : 'not persisted (the browser may evict it under storage pressure)'
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`
  const used =
    storage.usage === null || storage.quota === null
      ? 'usage unknown'
      : `${mb(storage.usage)} of ${mb(storage.quota)} used`
  const full = storage.quotaExceeded ? `; a send was refused: ${storage.quotaExceeded.message}` : ''
  return `${persisted}, ${used}${full}`
}
