import { createElement as h, useEffect, useState } from 'react'
import type { Message } from '../log/Log.ts'
import type { Client } from '../worker/connect.ts'
import type { TopicSnapshot } from './useLogSnapshot.ts'

const PAGE = 20

/**
 * Records of one topic-partition, a page at a time: seek to an offset or to a time (the first
 * record at or after it), or follow the tail (the last page, re-read whenever the end moves).
 */
export function RecordBrowser(props: { client: Client; topics: TopicSnapshot[] }) {
  const { client, topics } = props
  const [topic, setTopic] = useState(
    (topics.find((t) => !t.topic.startsWith('__')) ?? topics[0])?.topic ?? '',
  )
  const [partition, setPartition] = useState(0)
  const [offset, setOffset] = useState(0)
  const [follow, setFollow] = useState(true)
  const [records, setRecords] = useState<Message[]>([])
  const current = topics.find((t) => t.topic === topic) ?? topics[0]
  const part = current?.partitions.find((p) => p.partition === partition)
  const high = part?.high ?? 0
  const low = part?.low ?? 0
  const from = follow ? Math.max(low, high - PAGE) : offset

  useEffect(() => {
    if (!current || from >= high) {
      setRecords([])
      return
    }
    let cancelled = false
    client
      .fetch({ topic: current.topic, partition, offset: from, maxRecords: PAGE })
      .then((chunk) => !cancelled && setRecords(chunk.records as Message[]))
      .catch(() => !cancelled && setRecords([]))
    return () => {
      cancelled = true
    }
  }, [client, current, partition, from, high])

  const seekTime = async (value: string) => {
    const time = Date.parse(value)
    if (!current || Number.isNaN(time)) return
    const offsets = await client.admin().fetchTopicOffsetsByTimestamp(current.topic, time)
    const found = offsets.find((o) => o.partition === partition)
    setFollow(false)
    setOffset(Number(found?.offset ?? high))
  }

  return h(
    'div',
    { className: 'duality-records' },
    h(
      'div',
      { className: 'duality-controls' },
      h(
        'select',
        {
          'aria-label': 'topic',
          value: current?.topic ?? '',
          onChange: (e: { target: { value: string } }) => {
            setTopic(e.target.value)
            setPartition(0)
          },
        },
        topics.map((t) => h('option', { key: t.topic, value: t.topic }, t.topic)),
      ),
      h(
        'select',
        {
          'aria-label': 'partition',
          value: partition,
          onChange: (e: { target: { value: string } }) => setPartition(Number(e.target.value)),
        },
        (current?.partitions ?? []).map((p) =>
          h('option', { key: p.partition, value: p.partition }, `partition ${p.partition}`),
        ),
      ),
      h(
        'label',
        null,
        'offset ',
        h('input', {
          type: 'number',
          min: 0,
          value: from,
          style: { width: '6em' },
          onChange: (e: { target: { value: string } }) => {
            setFollow(false)
            setOffset(Math.max(0, Number(e.target.value)))
          },
        }),
      ),
      h(
        'label',
        null,
        'time ',
        h('input', {
          type: 'datetime-local',
          onChange: (e: { target: { value: string } }) => void seekTime(e.target.value),
        }),
      ),
      h(
        'label',
        null,
        h('input', {
          type: 'checkbox',
          checked: follow,
          onChange: (e: { target: { checked: boolean } }) => setFollow(e.target.checked),
        }),
        ' follow the tail',
      ),
    ),
    h(
      'table',
      null,
      h(
        'thead',
        null,
        h('tr', null, ...['offset', 'time', 'key', 'value'].map((c) => h('th', { key: c }, c))),
      ),
      h(
        'tbody',
        null,
        records.map((r) =>
          h(
            'tr',
            { key: r.offset },
            h('td', null, r.offset),
            h('td', null, new Date(r.timestamp).toISOString().replace('T', ' ').slice(0, 19)),
            h('td', null, JSON.stringify(r.key)),
            h('td', { className: 'duality-value' }, JSON.stringify(r.value)),
          ),
        ),
      ),
    ),
  )
}
