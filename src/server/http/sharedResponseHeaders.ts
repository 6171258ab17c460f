import { allowedRequestHeaders, exposedResponseHeaders } from '../../protocol/index.ts'

/** Headers on every response, whatever the origin and authentication (CORS, sniffing, CORP). */
export const sharedResponseHeaders: Readonly<Record<string, string>> = {
  'access-control-allow-methods': 'GET, POST, PUT, DELETE, HEAD, OPTIONS',
  'access-control-allow-headers': allowedRequestHeaders,
  'access-control-expose-headers': exposedResponseHeaders,
  'x-content-type-options': 'nosniff',
  'cross-origin-resource-policy': 'cross-origin',
}
