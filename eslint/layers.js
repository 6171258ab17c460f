// The house's layers and the imports each may make: the one table the linter enforces
// (eslint/layerRule.js) and docs/architecture.md draws. A file belongs to the layer whose path
// is the longest prefix of its own; it may import its own layer, the layers in `imports`, and
// the packages in `packages` (a trailing '/' or ':' matches a scope or a prefix: '@nats-io/',
// 'node:'). Everything else is an error. Tests, demo and tools are outside the table.

/** @type {Record<string, { path: string, imports: string[], packages: string[], why: string }>} */
export const layers = {
  log: {
    path: 'src/log',
    imports: [],
    packages: [],
    why: 'the core: web-standard only, so it runs in a worker, Node and an edge runtime alike',
  },
  streams: {
    path: 'src/streams',
    imports: ['log'],
    packages: [],
    why: 'the core: topologies over the log, no platform',
  },
  protocol: {
    path: 'src/protocol',
    imports: [],
    packages: [],
    why: 'the wire: the one thing the server and its clients share',
  },
  storage: {
    path: 'src/storage',
    imports: ['log'],
    packages: ['idb'],
    why: "the log's storage adapters (memory, IndexedDB)",
  },
  sync: {
    path: 'src/sync',
    imports: ['log', 'protocol'],
    packages: [],
    why: 'the client of the server: knows the server only through the wire',
  },
  testing: {
    path: 'src/testing',
    imports: ['log', 'streams'],
    packages: [],
    why: 'the topology test driver',
  },
  worker: {
    path: 'src/worker',
    imports: ['log', 'storage', 'streams', 'sync', 'protocol'],
    packages: ['comlink'],
    why: 'serve() in the worker and connect() in the page; the worker side of views',
  },
  zustand: {
    path: 'src/zustand',
    imports: ['log', 'sync', 'worker'],
    packages: ['zustand', 'comlink'],
    why: 'views as zustand stores in the page',
  },
  react: {
    path: 'src/react',
    imports: ['log', 'sync', 'worker', 'zustand'],
    packages: ['react'],
    why: 'hooks over the zustand stores',
  },
  devtools: {
    path: 'src/devtools',
    imports: ['log', 'worker', 'zustand', 'react'],
    packages: ['react'],
    why: 'the devtools panel, a React component on the public API',
  },
  entry: {
    path: 'src/index.ts',
    imports: ['log', 'streams', 'storage', 'sync'],
    packages: [],
    why: "the package's root export: the core, memory storage and sync",
  },
  server: {
    path: 'src/server',
    imports: ['log', 'protocol'],
    packages: ['hono'],
    why: 'the web-standard server (duality/server): nothing of the browser side, no Node',
  },
  'server-jwt': {
    path: 'src/server/auth/jwtAuthenticator.ts',
    imports: ['server', 'log', 'protocol'],
    packages: ['jose'],
    why: 'JWT auth, its own entry so that jose is needed only by who uses it',
  },
  'server-jwt-entry': {
    path: 'src/server/auth/index.ts',
    imports: ['server-jwt'],
    packages: [],
    why: 'duality/server/jwt',
  },
  'server-sqlite': {
    path: 'src/server/engines/sqlite',
    imports: ['server', 'log', 'protocol'],
    packages: ['better-sqlite3', 'node:'],
    why: 'SQLite storage: a native module, Node only',
  },
  'server-jetstream': {
    path: 'src/server/engines/jetstream',
    imports: ['server', 'log', 'protocol'],
    packages: ['@nats-io/', 'node:'],
    why: 'the JetStream engine: NATS over TCP, Node only',
  },
  'server-node': {
    path: 'src/server/node',
    imports: ['server', 'server-sqlite', 'server-jetstream', 'server-jwt', 'log', 'protocol'],
    packages: ['node:', '@hono/node-server', 'hono'],
    why: 'serve() on node:http and the CLI',
  },
}
