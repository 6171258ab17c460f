// What a browser or worker bundle gets for duality/server/node, /sqlite and /jetstream (the
// `browser` and `worker` export conditions): they need Node (node:http, a native SQLite module,
// NATS over TCP). Failing at import with this message beats a bundle that builds and breaks on
// first use. The names are exported so that a bundler resolves `import { serve }` and runs this
// module (package.json lists it in sideEffects, so it is not shaken out) instead of failing on a
// missing export that says nothing of why.
const message =
  'This duality/server entry runs on Node, not in a browser bundle: import duality/server (the web-standard app) in the browser or a worker, and duality/server/node, /sqlite or /jetstream only in Node.'
throw new Error(message)

export const serve: never = undefined as never
export const sqliteServerStorage: never = undefined as never
export const JetStreamEngine: never = undefined as never
