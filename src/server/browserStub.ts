// What a browser bundle gets for duality/server/node, /sqlite and /jetstream (the `browser`
// export condition): they need Node (node:http, a native SQLite module, NATS over TCP). Failing
// at import with this message beats a bundle that builds and breaks on first use.
throw new Error(
  'This duality/server entry runs on Node, not in a browser bundle: import duality/server (the web-standard app) in the browser or a worker, and duality/server/node, /sqlite or /jetstream only in Node.',
)
export {}
