import { useEffect, useState } from 'react'
import type { TopicConfig } from '../log/TopicConfig.ts'
import type { Client, RemoteNamespace } from '../worker/connect.ts'
import type { StorageStatus } from '../worker/storageStatus.ts'
import type { WorkerApi } from '../worker/workerApi.ts'

export interface PartitionSnapshot {
  partition: number
  low: number
  high: number
  bytes: number
  cleanedOffset: number
}

export interface TopicSnapshot {
  topic: string
  config: TopicConfig
  partitions: PartitionSnapshot[]
}

export interface GroupSnapshot {
  groupId: string
  topics: { topic: string; partition: number; committed: number; lag: number }[]
}

export interface LogSnapshot {
  topics: TopicSnapshot[]
  groups: GroupSnapshot[]
  views: { name: string; topic: string }[]
  cleanerActive: boolean
  /** What the browser says of the origin's storage (persisted, usage and quota). */
  storage: StorageStatus
  at: number
}

/**
 * The log as devtools show it, polled every `everyMs` (the log has no "anything changed" event
 * that covers config, compaction and group offsets; a poll of a few reads a second is cheap).
 * Groups are the ones named: the log keeps committed offsets by group, not a list of groups.
 */
export function useLogSnapshot(client: Client, groups: string[], everyMs: number) {
  const [snapshot, setSnapshot] = useState<LogSnapshot | null>(null)
  const [tick, setTick] = useState(0)
  const groupsKey = groups.join('\u0000')
  useEffect(() => {
    let cancelled = false
    let timer: ReturnType<typeof setTimeout> | undefined
    // Namespaces of the worker's API (comlink types them as promises of objects; they are proxies).
    const admin = client.remote.admin as unknown as RemoteNamespace<WorkerApi['admin']>
    const views = client.remote.views as unknown as RemoteNamespace<WorkerApi['views']>
    const poll = async () => {
      try {
        const names = (await admin.listTopics()).sort()
        const topics = await Promise.all(names.map((t) => admin.describeTopic(t)))
        const high = new Map(
          topics.flatMap((t) => t.partitions.map((p) => [`${t.topic}/${p.partition}`, p.high])),
        )
        const groupSnapshots = await Promise.all(
          groupsKey
            .split('\u0000')
            .filter(Boolean)
            .map(async (groupId) => {
              const offsets = await admin.fetchOffsets({ groupId })
              return {
                groupId,
                topics: offsets.flatMap(({ topic, partitions }) =>
                  partitions
                    .filter((p) => p.offset >= 0)
                    .map((p) => ({
                      topic,
                      partition: p.partition,
                      committed: p.offset,
                      lag: Math.max(0, (high.get(`${topic}/${p.partition}`) ?? 0) - p.offset),
                    })),
                ),
              }
            }),
        )
        const [viewList, status] = await Promise.all([views.list(), client.remote.status()])
        if (!cancelled) {
          setSnapshot({
            topics,
            groups: groupSnapshots,
            views: viewList,
            cleanerActive: status.cleaner,
            storage: status.storage,
            at: Date.now(),
          })
        }
      } catch (error) {
        console.warn('duality devtools: poll failed', error)
      }
      if (!cancelled) timer = setTimeout(() => void poll(), everyMs)
    }
    void poll()
    return () => {
      cancelled = true
      clearTimeout(timer)
    }
  }, [client, groupsKey, everyMs, tick])
  /** Polls again now (after an action such as compaction). */
  const refresh = () => setTick((t) => t + 1)
  return { snapshot, refresh }
}
