import type { Hono } from 'hono'
import { DualityError } from '../../log/errors.ts'
import { errorResponse } from './errorResponse.ts'
import { adminTopicsPath, type CreateTopicRequest, type TopicList } from '../../protocol/index.ts'
import type { TopicAdmin } from '../topics/TopicAdmin.ts'

const statusOf: Partial<Record<string, number>> = {
  UNKNOWN_TOPIC_OR_PARTITION: 404,
  TOPIC_ALREADY_EXISTS: 409,
}

function failure(error: unknown): Response {
  if (error instanceof DualityError) {
    return errorResponse(statusOf[error.code] ?? 400, error.code, error.message)
  }
  throw error
}

/** Parses a JSON object body; a Response is the 4xx to send instead. */
async function jsonBody(request: Request): Promise<Record<string, unknown> | Response> {
  const type = request.headers.get('content-type') ?? ''
  const text = await request.text()
  if (text === '') return {}
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    return errorResponse(415, 'INVALID_ARGUMENT', 'Send the topic settings as application/json')
  }
  try {
    const value = JSON.parse(text) as unknown
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      return value as Record<string, unknown>
    }
  } catch {
    // answered below
  }
  return errorResponse(400, 'INVALID_ARGUMENT', 'The body must be a JSON object')
}

function createRequest(body: Record<string, unknown>): CreateTopicRequest | Response {
  const { numPartitions, configEntries } = body
  if (numPartitions !== undefined && typeof numPartitions !== 'number') {
    return errorResponse(400, 'INVALID_PARTITIONS', 'numPartitions must be a number')
  }
  const entries = configEntries ?? []
  const valid =
    Array.isArray(entries) &&
    entries.every(
      (e: unknown) =>
        e !== null &&
        typeof e === 'object' &&
        typeof (e as { name?: unknown }).name === 'string' &&
        ['string', 'number'].includes(typeof (e as { value?: unknown }).value),
    )
  if (!valid) {
    return errorResponse(400, 'INVALID_CONFIG', 'configEntries must be [{ name, value }, ...]')
  }
  return {
    ...(numPartitions !== undefined && { numPartitions }),
    configEntries: entries as CreateTopicRequest['configEntries'] & object,
  }
}

/**
 * The topic admin API, KafkaJS's admin over HTTP:
 * `GET /admin/topics`, `PUT|GET|DELETE /admin/topics/:topic`, `POST /admin/topics/:topic/clean`.
 */
export function mountTopicRoutes<E extends object>(app: Hono<E>, admin: TopicAdmin): void {
  app.get(adminTopicsPath, async () =>
    Response.json({ topics: await admin.listTopics() } satisfies TopicList),
  )
  app.put(`${adminTopicsPath}/:topic`, async (c) => {
    const body = await jsonBody(c.req.raw)
    if (body instanceof Response) return body
    const request = createRequest(body)
    if (request instanceof Response) return request
    try {
      return Response.json(await admin.createTopic(c.req.param('topic'), request), {
        status: 201,
      })
    } catch (error) {
      return failure(error)
    }
  })
  app.get(`${adminTopicsPath}/:topic`, async (c) => {
    try {
      return Response.json(await admin.describeTopic(c.req.param('topic')))
    } catch (error) {
      return failure(error)
    }
  })
  app.delete(`${adminTopicsPath}/:topic`, async (c) => {
    try {
      await admin.deleteTopic(c.req.param('topic'))
      return new Response(null, { status: 204 })
    } catch (error) {
      return failure(error)
    }
  })
  app.post(`${adminTopicsPath}/:topic/clean`, async (c) => {
    try {
      return Response.json({ partitions: await admin.cleanTopic(c.req.param('topic')) })
    } catch (error) {
      return failure(error)
    }
  })
  // A browser app on another origin preflights its JSON PUTs (CORS headers come from createApp).
  app.options('/admin/*', () => new Response(null, { status: 204 }))
  app.all('/admin/*', () => errorResponse(404, 'NOT_FOUND', 'No such admin endpoint'))
}
