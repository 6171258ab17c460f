// duality/testing: test topologies synchronously, in memory, as with Kafka's TopologyTestDriver.
export {
  TopologyTestDriver,
  TestInputTopic,
  TestOutputTopic,
  type TestRecord,
} from './TopologyTestDriver.ts'
