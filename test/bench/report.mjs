// Turns rows and checks into the printed table or the JSON object.

/**
 * Evaluates every suite's checks against the rows; a check whose rows are missing gets null.
 * `op` says how the value meets its target: '>=' (`min`: throughput, ratios) or '<=' (`max`:
 * latencies in ms).
 */
export function evaluateChecks(suites, rows) {
  const find = (id) => rows.find((r) => r.id === id)
  return suites
    .flatMap((s) => s.checks ?? [])
    .map(({ label, of, min, max, stat }) => {
      if (stat !== undefined) {
        const value = find(of[0])?.latencyMs?.[stat]
        const met = value === undefined || max === undefined ? null : value <= max
        return { label, kind: 'ms', value: value ?? null, target: max ?? null, op: '<=', met }
      }
      const [a, b] = of.map((id) => find(id)?.eventsPerSec)
      const value = of.length === 1 ? a : a !== undefined && b !== undefined ? a / b : undefined
      const kind = of.length === 1 ? 'events/s' : 'ratio'
      const met = value === undefined || min === undefined ? null : value >= min
      return { label, kind, value: value ?? null, target: min ?? null, op: '>=', met }
    })
}

const int = (n) => Math.round(n).toLocaleString('en-US')
// Ratios get 3 significant digits so a value just under its target never prints as equal to it.
const fmt = (kind, n) =>
  kind === 'ratio' ? `${n.toPrecision(3)}x` : kind === 'ms' ? `${ms(n)} ms` : int(n)
const ms = (n) => n.toFixed(n < 100 ? 1 : 0)

function table(headers, lines, alignRight) {
  const widths = headers.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
  const pad = (cells) =>
    cells
      .map((c, i) => (alignRight[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd()
  return [pad(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(pad)].join('\n')
}

export function formatText({ environment, rows, checks, skipped }) {
  const throughput = rows.filter((r) => !r.latencyMs)
  const latency = rows.filter((r) => r.latencyMs)
  const out = [
    `duality bench: ${environment.browser}, ${environment.storage}, node ${environment.node}, ` +
      `${environment.cpus} CPUs, ${int(environment.options.events)} events a workload`,
  ]
  if (throughput.length) {
    out.push(
      '',
      table(
        ['peer', 'workload', 'events', 'ms', 'events/s', 'note'],
        throughput.map((r) => [
          r.peer,
          r.workload,
          int(r.events),
          int(r.ms),
          int(r.eventsPerSec),
          r.note ?? '',
        ]),
        [false, false, true, true, true, false],
      ),
    )
  }
  if (latency.length) {
    out.push(
      '',
      table(
        ['peer', 'latency of', 'samples', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'note'],
        latency.map(({ peer, workload, events, latencyMs: l, note }) => [
          peer,
          workload,
          int(events),
          ms(l.p50),
          ms(l.p90),
          ms(l.p99),
          ms(l.max),
          note ?? '',
        ]),
        [false, false, true, true, true, true, true, false],
      ),
    )
  }
  if (checks.length) {
    const verdict = (c) =>
      c.met === null ? (c.target === null ? '' : 'not measured') : c.met ? 'met' : 'NOT MET'
    const target = (c) =>
      c.target === null
        ? ''
        : `${c.op} ${c.kind === 'ratio' ? `${c.target}x` : c.kind === 'ms' ? `${c.target} ms` : int(c.target)}`
    out.push(
      '',
      table(
        ['ratio / target', 'value', 'target', ''],
        checks.map((c) => [
          c.label,
          c.value === null ? 'n/a' : fmt(c.kind, c.value),
          target(c),
          verdict(c),
        ]),
        [false, true, true, false],
      ),
    )
  }
  for (const s of skipped) out.push('', `skipped suite '${s.suite}': ${s.reason}`)
  return out.join('\n') + '\n'
}
