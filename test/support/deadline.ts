import { availableParallelism, loadavg } from 'node:os'
import { expect, type TestContext } from 'vitest'

/**
 * A latency the spec promises ("closing a tab moves its partitions within 2 s"), checked on a
 * machine that may be shared: a 2-core box running other suites can stall a browser for seconds,
 * and a test that then fails says nothing about the code. So:
 * - past `hardMs` (default 10x the deadline) it fails, whatever the load: a figure that large is
 *   a hang or a missing mechanism, not noise;
 * - past the deadline on a machine that is not loaded (1-minute load average below the core
 *   count) it fails: nothing else explains it;
 * - past the deadline on a loaded machine it is reported (console.warn and a test annotation), not
 *   failed.
 * The functional outcome (the takeover happened, the message arrived) is the caller's to assert,
 * always; this only judges how long it took, measured from the event the spec's clock starts at.
 */
export interface Deadline {
  /** What was measured, from which event: it starts every message. */
  what: string
  /** The spec's deadline, in ms. */
  deadlineMs: number
  /** Failed at on any machine (default 10x the deadline). */
  hardMs?: number
}

export type Verdict =
  | { kind: 'met' }
  /** Late, but the machine was loaded: reported, not failed. */
  | { kind: 'late-loaded' }
  /** Late on a machine that was not loaded: a failure. */
  | { kind: 'late' }
  /** Past the hard bound: a failure on any machine. */
  | { kind: 'over-hard' }

export interface Load {
  /** The 1-minute load average. */
  load: number
  cores: number
}

export const hardBound = ({ deadlineMs, hardMs }: Deadline): number => hardMs ?? 10 * deadlineMs

/** The decision alone, pure, so test/support/deadline.test.ts can pin it down. */
export function judge(ms: number, deadline: Deadline, { load, cores }: Load): Verdict {
  if (!(ms <= hardBound(deadline))) return { kind: 'over-hard' } // NaN included
  if (ms <= deadline.deadlineMs) return { kind: 'met' }
  return load >= cores ? { kind: 'late-loaded' } : { kind: 'late' }
}

export const machineLoad = (): Load => ({ load: loadavg()[0]!, cores: availableParallelism() })

/**
 * Judges `ms` against `deadline` (see above): fails the test when it must, otherwise annotates the
 * figure (a warning when it was late on a loaded machine). Returns the verdict.
 */
export async function expectWithinDeadline(
  context: Pick<TestContext, 'annotate'>,
  ms: number,
  deadline: Deadline,
  load: Load = machineLoad(),
): Promise<Verdict> {
  const verdict = judge(ms, deadline, load)
  const figure = `${deadline.what}: ${Math.round(ms)} ms (deadline ${deadline.deadlineMs} ms, hard bound ${hardBound(deadline)} ms; load ${load.load.toFixed(2)} on ${load.cores} cores)`
  switch (verdict.kind) {
    case 'over-hard':
      expect.fail(`${figure}: past the hard bound, which no load excuses`)
      break
    case 'late':
      expect.fail(`${figure}: late on a machine that was not loaded`)
      break
    case 'late-loaded': {
      const message = `${figure}: late, but the machine was loaded; reported, not failed`
      console.warn(message)
      await context.annotate(message, 'warning')
      break
    }
    case 'met':
      await context.annotate(figure, 'notice')
      break
  }
  return verdict
}
