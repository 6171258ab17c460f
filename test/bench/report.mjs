// Turns rows and checks into the printed table or the JSON object.

/** Evaluates every suite's checks against the rows; a check whose rows are missing gets null. */
export function evaluateChecks(suites, rows) {
  const rate = (id) => rows.find((r) => r.id === id)?.eventsPerSec
  return suites
    .flatMap((s) => s.checks ?? [])
    .map(({ label, of, min }) => {
      const [a, b] = of.map(rate)
      const value = of.length === 1 ? a : a !== undefined && b !== undefined ? a / b : undefined
      const kind = of.length === 1 ? 'events/s' : 'ratio'
      const met = value === undefined || min === undefined ? null : value >= min
      return { label, kind, value: value ?? null, target: min ?? null, met }
    })
}

const int = (n) => Math.round(n).toLocaleString('en-US')
// Ratios get 3 significant digits so a value just under its target never prints as equal to it.
const fmt = (kind, n) => (kind === 'ratio' ? `${n.toPrecision(3)}x` : int(n))

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
  const out = [
    `duality bench: ${environment.browser}, ${environment.storage}, node ${environment.node}, ` +
      `${environment.cpus} CPUs, ${int(environment.options.events)} events a workload`,
    '',
    table(
      ['peer', 'workload', 'events', 'ms', 'events/s', 'note'],
      rows.map((r) => [
        r.peer,
        r.workload,
        int(r.events),
        int(r.ms),
        int(r.eventsPerSec),
        r.note ?? '',
      ]),
      [false, false, true, true, true, false],
    ),
  ]
  if (checks.length) {
    const verdict = (c) =>
      c.met === null ? (c.target === null ? '' : 'not measured') : c.met ? 'met' : 'NOT MET'
    out.push(
      '',
      table(
        ['ratio / target', 'value', 'target', ''],
        checks.map((c) => [
          c.label,
          c.value === null ? 'n/a' : fmt(c.kind, c.value),
          c.target === null ? '' : `>= ${c.kind === 'ratio' ? `${c.target}x` : int(c.target)}`,
          verdict(c),
        ]),
        [false, true, true, false],
      ),
    )
  }
  for (const s of skipped) out.push('', `skipped suite '${s.suite}': ${s.reason}`)
  return out.join('\n') + '\n'
}
