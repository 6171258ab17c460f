/** duality/server/node: the server on Node's HTTP server, with graceful shutdown. */
export { serve, type RunningServer, type ServeOptions } from './serve.ts'
