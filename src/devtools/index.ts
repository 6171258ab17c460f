// duality/devtools: a React panel that shows the log at work (React is an optional peer).
export { DevtoolsPanel, type DevtoolsPanelProps } from './DevtoolsPanel.ts'
export { RecordBrowser } from './RecordBrowser.ts'
export { TimeTravel } from './TimeTravel.ts'
export {
  useLogSnapshot,
  type LogSnapshot,
  type TopicSnapshot,
  type PartitionSnapshot,
  type GroupSnapshot,
} from './useLogSnapshot.ts'
