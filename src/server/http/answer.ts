/**
 * A response as plain data: what the append path decides, before any runtime's response type.
 * hono's path turns it into a web Response (toResponse); the direct Node path
 * (node/directAppend.ts) writes it straight to node:http. One decision, two writers.
 */
export interface Answer {
  status: number
  headers: Record<string, string>
  /** A JSON error body; successful appends have none. */
  body?: string
}

export function toResponse(answer: Answer): Response {
  return new Response(answer.body ?? null, { status: answer.status, headers: answer.headers })
}
