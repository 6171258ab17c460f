/** One input record of the asOf scenarios: key, amount, timestamp and partition. */
export type SpendRecord = [key: string, value: number, timestamp: number, partition: number]

/** A step of records as the messages of one send. */
export const stepMessages = (step: readonly SpendRecord[]) =>
  step.map(([key, value, timestamp, partition]) => ({ key, value, timestamp, partition }))
