// The wire between duality's server and every client of it (sync, tools, other Durable Streams
// clients): types and small pure functions, imported by both ends and by nothing else's rules.
export * from './contentTypes.ts'
export * from './cursor.ts'
export * from './errorBody.ts'
export * from './headers.ts'
export * from './offsets.ts'
export * from './paths.ts'
export * from './query.ts'
export * from './topicRecord.ts'
export * from './topicsAdmin.ts'
