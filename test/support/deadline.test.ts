import { afterEach, describe, expect, test, vi } from 'vitest'
import { expectWithinDeadline, judge, type Deadline } from './deadline.ts'

// The helper that lets e2e latencies be reported instead of failed on a loaded machine must still
// fail where it claims to: these pin its decision down, so it cannot quietly pass everything.
const takeover: Deadline = { what: 'takeover', deadlineMs: 2000 }
const idle = { load: 0.5, cores: 2 }
const busy = { load: 2, cores: 2 }

describe('judge', () => {
  test('within the deadline is met, loaded or not', () => {
    expect(judge(0, takeover, idle)).toEqual({ kind: 'met' })
    expect(judge(2000, takeover, idle)).toEqual({ kind: 'met' })
    expect(judge(1999, takeover, busy)).toEqual({ kind: 'met' })
  })

  test('late on an idle machine is a failure; on a loaded one (load >= cores) it is reported', () => {
    expect(judge(2001, takeover, idle)).toEqual({ kind: 'late' })
    expect(judge(2001, takeover, { load: 1.99, cores: 2 })).toEqual({ kind: 'late' })
    expect(judge(2001, takeover, busy)).toEqual({ kind: 'late-loaded' })
    expect(judge(20_000, takeover, { load: 9, cores: 2 })).toEqual({ kind: 'late-loaded' })
  })

  test('past the hard bound (10x by default, or as given) fails whatever the load; NaN too', () => {
    expect(judge(20_001, takeover, busy)).toEqual({ kind: 'over-hard' })
    expect(judge(20_001, takeover, { load: 100, cores: 2 })).toEqual({ kind: 'over-hard' })
    expect(judge(3001, { ...takeover, hardMs: 3000 }, busy)).toEqual({ kind: 'over-hard' })
    expect(judge(Infinity, takeover, busy)).toEqual({ kind: 'over-hard' })
    expect(judge(NaN, takeover, busy)).toEqual({ kind: 'over-hard' })
  })
})

describe('expectWithinDeadline', () => {
  afterEach(() => vi.restoreAllMocks())

  test('fails a late figure on an idle machine and any figure past the hard bound', async () => {
    const annotate = vi.fn(async () => ({}) as never)
    await expect(expectWithinDeadline({ annotate }, 2500, takeover, idle)).rejects.toThrow(
      'takeover: 2500 ms (deadline 2000 ms, hard bound 20000 ms; load 0.50 on 2 cores): late on a machine that was not loaded',
    )
    await expect(expectWithinDeadline({ annotate }, 25_000, takeover, busy)).rejects.toThrow(
      'past the hard bound, which no load excuses',
    )
    expect(annotate).not.toHaveBeenCalled()
  })

  test('reports a late figure on a loaded machine with a warning, and notes a met one', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const annotate = vi.fn(async () => ({}) as never)
    const late =
      'takeover: 2500 ms (deadline 2000 ms, hard bound 20000 ms; load 2.00 on 2 cores): late, but the machine was loaded; reported, not failed'
    expect(await expectWithinDeadline({ annotate }, 2500, takeover, busy)).toEqual({
      kind: 'late-loaded',
    })
    expect(warn.mock.calls).toEqual([[late]])
    expect(await expectWithinDeadline({ annotate }, 1200.4, takeover, idle)).toEqual({
      kind: 'met',
    })
    expect(annotate.mock.calls).toEqual([
      [late, 'warning'],
      ['takeover: 1200 ms (deadline 2000 ms, hard bound 20000 ms; load 0.50 on 2 cores)', 'notice'],
    ])
    expect(warn).toHaveBeenCalledTimes(1)
  })
})
