// A benchmark row: { what, value, unit, baseline?, baselineValue?, ratio?, target?, met?, note? }.
// `ratio` is value / baselineValue for "higher is better" figures and baselineValue / value for
// "lower is better" ones (set `lowerIsBetter: true`), so a ratio above 1 always means ivyfs wins.

export function row({ what, value, unit, baseline, baselineValue, lowerIsBetter = false, target, note }) {
  let ratio
  if (baselineValue !== undefined && value !== undefined && value > 0 && baselineValue > 0) {
    ratio = lowerIsBetter ? baselineValue / value : value / baselineValue
  }
  let met
  if (target !== undefined) met = target.check({ value, ratio })
  return { what, value, unit, baseline, baselineValue, ratio, target: target?.text, met, note }
}

export const atLeastRatio = (x) => ({
  text: `≥ ${x}× baseline`,
  check: ({ ratio }) => ratio !== undefined && ratio >= x
})
export const atMost = (x, unit) => ({ text: `≤ ${x} ${unit}`, check: ({ value }) => value <= x })
export const atLeast = (x, unit) => ({ text: `≥ ${x} ${unit}`, check: ({ value }) => value >= x })

const fmt = (n) =>
  n === undefined
    ? ''
    : Math.abs(n) >= 100
      ? Math.round(n).toLocaleString('en-US')
      : Number(n.toPrecision(3)).toString()

function cells(r) {
  return [
    r.what,
    `${fmt(r.value)} ${r.unit}`,
    r.baseline === undefined ? '' : `${r.baseline}: ${fmt(r.baselineValue)} ${r.unit}`,
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'met' : 'NOT met',
    r.note ?? ''
  ]
}

const HEAD = ['figure', 'ivyfs', 'baseline', 'ratio', 'target', '', 'note']

export function formatTable(rows) {
  const all = [HEAD, ...rows.map(cells)]
  const widths = HEAD.map((_, i) => Math.max(...all.map((r) => r[i].length)))
  return all
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd()
    )
    .join('\n')
}

export function toMarkdown(rows) {
  const lines = [`| ${HEAD.join(' | ')} |`, `|${HEAD.map(() => '---').join('|')}|`]
  for (const r of rows) lines.push(`| ${cells(r).join(' | ')} |`)
  return lines.join('\n')
}

/** Runs `fn` `times` times and returns the median of what it returns. */
export async function median(times, fn) {
  const values = []
  for (let i = 0; i < times; i++) values.push(await fn(i))
  values.sort((a, b) => a - b)
  return values[Math.floor(values.length / 2)]
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}
