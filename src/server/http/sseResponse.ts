import { base64 as toBase64 } from './base64.ts'
import { isTextType, responseCursor, formatOffset, H } from '../../protocol/index.ts'
import type { ReadOutcome } from '../engine/outcomes.ts'
import { recordsBody, type ReadSettings } from './readHandler.ts'
import type { Engine } from '../engine/Engine.ts'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * One SSE event. Every line of the payload gets its own `data:` line, splitting on CR, LF and
 * CRLF alike, so a payload cannot end the event early or inject one of its own.
 */
function sseEvent(type: string, payload: string): string {
  const lines = payload.split(/\r\n|\r|\n/)
  return `event: ${type}\n${lines.map((l) => `data:${l}`).join('\n')}\n\n`
}

/**
 * A live SSE tail (PROTOCOL.md §5.7): a `data` event per chunk of records, each followed by a
 * `control` event with the next offset and a cursor; binary streams' data is base64. The server
 * closes the connection after `sseMaxDurationMs` (the client reconnects from the last offset) and
 * when a closed stream has been read to its end.
 */
export function sseResponse(
  engine: Engine,
  path: string,
  first: Extract<ReadOutcome, { kind: 'ok' }>,
  cursor: string | undefined,
  settings: ReadSettings,
  signal: AbortSignal,
): Response {
  const base64 = !isTextType(first.stream.contentType)
  const stop = new AbortController()
  signal.addEventListener('abort', () => stop.abort(), { once: true })
  const deadline = engine.now() + settings.sseMaxDurationMs

  // Backpressure: the next chunk is read only once the client has taken the last one (the Node
  // adapter reads this stream as the socket drains), so a client that stops reading holds one
  // chunk in memory, not the whole stream.
  let pulled: (() => void) | undefined
  // One listener for the connection's life: a cancelled client must not leave the loop waiting.
  stop.signal.addEventListener('abort', () => pulled?.(), { once: true })
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string): void => controller.enqueue(encoder.encode(text))
      const drained = (): Promise<void> =>
        (controller.desiredSize ?? 0) > 0
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              pulled = resolve
              if (stop.signal.aborted) resolve() // the abort listener has fired already
            })
      const run = async (): Promise<void> => {
        let outcome: ReadOutcome = first
        for (;;) {
          if (outcome.kind !== 'ok') return
          const { stream, records, nextOffset, upToDate } = outcome
          if (records.length > 0) {
            const bytes = recordsBody(stream, records)
            // JSON streams send the chunk as one JSON array; text as is; anything else base64.
            const payload = base64 ? toBase64(bytes) : decoder.decode(bytes)
            send(sseEvent('data', payload))
          }
          const control: Record<string, string | boolean> = {
            streamNextOffset: formatOffset(nextOffset),
          }
          const finished = stream.closed && upToDate
          if (finished) control['streamClosed'] = true
          else {
            control['streamCursor'] = responseCursor(cursor, engine.now())
            if (upToDate) control['upToDate'] = true
          }
          send(sseEvent('control', JSON.stringify(control)))
          if (finished || stop.signal.aborted) return
          const left = deadline - engine.now()
          if (left <= 0) return
          if (upToDate) {
            const waited = await engine.waitForChange(
              stream.id,
              Math.min(settings.longPollTimeoutMs, left),
              stop.signal,
            )
            if (waited === 'aborted') return
          }
          await drained()
          if (stop.signal.aborted) return
          outcome = await engine.read(path, { kind: 'offset', offset: nextOffset })
        }
      }
      run()
        .catch(() => undefined)
        .finally(() => {
          try {
            controller.close()
          } catch {
            // already closed by a cancelled client
          }
        })
    },
    pull() {
      pulled?.()
      pulled = undefined
    },
    cancel() {
      stop.abort()
    },
  })
  const headers: Record<string, string> = {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
  }
  if (base64) headers[H.sseDataEncoding] = 'base64'
  return new Response(body, { headers })
}
