/** duality/server/jetstream: the engine over NATS JetStream, for several servers sharing streams. */
export { JetStreamEngine, type JetStreamEngineOptions } from './JetStreamEngine.ts'
