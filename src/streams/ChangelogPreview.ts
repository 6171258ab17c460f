/** A store's changelog record as KafkaStreams writes it (the record's value; null deletes the key). */
export interface ChangelogValue {
  value: unknown
  timestamp: number
}

/** The records one processed batch appends to one changelog partition. */
export interface ChangelogAppend {
  topic: string
  partition: number
  /**
   * The offset its first record takes when the batch commits: the changelog's end as this instance
   * knows it (it is the changelog's only writer). A reader whose fold is not exactly there cannot
   * use the preview and waits for the commit instead.
   */
  from: number
  /** Keys as the changelog holds them (JSON text of the store's key), in the order written. */
  records: { key: string; value: ChangelogValue | null }[]
}

/**
 * What the instance running a topology announces about a batch (KafkaStreams.onChangelogPreview):
 * `processed` as soon as the batch's input records (durable in the log) have run through the
 * topology and before the changelog commit, so views need not wait for it; then either the commit,
 * recognised by `tag` on its append events (AppendEvent.tag), or `aborted` when the commit failed
 * and nothing of the batch was written.
 *
 * A reader that applied a preview and then sees the changelog move without that tag (the instance
 * died before its commit, and another one reprocessed the input) must drop what it applied and
 * fold the changelog again: a deterministic topology writes the same state, but not necessarily
 * the same records at the same offsets, since the new batch may hold more or fewer input records.
 */
export type ChangelogPreview =
  | { type: 'processed'; tag: string; changelogs: ChangelogAppend[] }
  | { type: 'aborted'; tag: string }
