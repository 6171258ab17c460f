// Turns rows and checks into the printed table or the JSON object.

/**
 * Evaluates every suite's checks against the rows; a check whose rows are missing gets null.
 * `op` says how the value meets its target: '>=' (`min`: throughput, ratios) or '<=' (`max`:
 * latencies in ms). `samples` gives the events and repeats of each row a check reads; a ratio of
 * two rows is only `comparable` when they match (same events, medians of as many runs); one that
 * is not is never met (a run stopped at its budget, or workload sizes that drifted apart).
 */
export function evaluateChecks(suites, rows) {
  const find = (id) => rows.find((r) => r.id === id)
  const sampleOf = (id) => {
    const r = find(id)
    return { id, events: r?.events ?? null, repeats: r ? (r.repeats ?? 1) : null }
  }
  return suites
    .flatMap((s) => s.checks ?? [])
    .map(({ label, of, min, max, stat }) => {
      const samples = of.map(sampleOf)
      if (stat !== undefined) {
        const value = find(of[0])?.latencyMs?.[stat]
        const met = value === undefined || max === undefined ? null : value <= max
        const target = max ?? null
        return { label, kind: 'ms', value: value ?? null, target, op: '<=', met, samples }
      }
      const [a, b] = of.map((id) => find(id)?.eventsPerSec)
      const value = of.length === 1 ? a : a !== undefined && b !== undefined ? a / b : undefined
      const kind = of.length === 1 ? 'events/s' : 'ratio'
      const comparable =
        value === undefined
          ? null
          : samples.every((s) => s.events === samples[0].events && s.repeats === samples[0].repeats)
      const met = value === undefined || min === undefined || !comparable ? null : value >= min
      const check = { label, kind, value: value ?? null, target: min ?? null, op: '>=', met }
      return { ...check, samples, ...(of.length > 1 ? { comparable } : {}) }
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
  const { workloads, repeats } = environment.options
  const sizes = Object.entries(workloads).map(([id, w]) => `${id} ${int(w.events)}`)
  const out = [
    `duality bench: ${environment.browser}, ${environment.storage}, node ${environment.node}, ` +
      `${environment.cpus} CPUs`,
    `every peer, events a run: ${sizes.join(', ')}; ` +
      (repeats > 1 ? `medians of ${repeats} runs` : 'one run each'),
  ]
  if (throughput.length) {
    out.push(
      '',
      table(
        ['peer', 'workload', 'events', 'runs', 'ms', 'events/s', 'note'],
        throughput.map((r) => [
          r.peer,
          r.workload,
          int(r.events),
          String(r.repeats ?? 1),
          int(r.ms),
          int(r.eventsPerSec),
          r.note ?? '',
        ]),
        [false, false, true, true, true, true, false],
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
    const unequal = (c) =>
      'unequal samples: ' + c.samples.map((s) => `${int(s.events)} x${s.repeats}`).join(' vs ')
    const verdict = (c) =>
      c.comparable === false
        ? c.target === null
          ? unequal(c)
          : `NOT COMPARED, ${unequal(c)}`
        : c.met === null
          ? c.target === null
            ? ''
            : 'not measured'
          : c.met
            ? 'met'
            : 'NOT MET'
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
