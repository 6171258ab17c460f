/**
 * Where duality's topics live on a Durable Streams server: partition p of topic t is the stream
 * `/topics/t/p`; the topics admin API is under `/admin/topics`. Legal topic names
 * (`legalTopicName`) need no escaping, so the path is the same whichever side builds it.
 */
export const topicsPrefix = '/topics/'
export const adminTopicsPath = '/admin/topics'

/** Kafka's legal topic names (and not `.` or `..`, which a URL path would resolve). */
const legalName = /^[a-zA-Z0-9._-]{1,249}$/

export const legalTopicName = (topic: string): boolean =>
  legalName.test(topic) && topic !== '.' && topic !== '..'

export const partitionPath = (topic: string, partition: number): string =>
  `${topicsPrefix}${encodeURIComponent(topic)}/${partition}`

export const adminTopicPath = (topic: string): string =>
  `${adminTopicsPath}/${encodeURIComponent(topic)}`
