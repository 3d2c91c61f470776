/**
 * A small line diff (LCS) for `ivy conflicts show`: two text versions as a unified diff
 * (`---`/`+++` headers, `@@` hunks with CONTEXT_LINES of context), the format `patch` reads.
 */

/** Diffs longer than this many lines on either side are summarised instead (LCS is O(n·m)). */
export const DIFF_LINES_MAX = 2000

/** Unchanged lines shown around each change. */
export const CONTEXT_LINES = 3

/** Text is valid UTF-8 without NUL bytes; anything else is shown as sizes and hashes. */
export function looksLikeText(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    return true
  } catch {
    return false
  }
}

interface Lines {
  lines: string[]
  /** The text does not end with a newline (and is not empty). */
  noNewlineAtEnd: boolean
}

function splitLines(text: string): Lines {
  if (text === '') return { lines: [], noNewlineAtEnd: false }
  const lines = text.split('\n')
  const noNewlineAtEnd = lines[lines.length - 1] !== ''
  if (!noNewlineAtEnd) lines.pop()
  return { lines, noNewlineAtEnd }
}

type Step = { op: ' ' | '-' | '+'; line: string; last: boolean }

/** The edit script from x to y: LCS table, then a walk that prefers deletions before insertions. */
function editScript(x: Lines, y: Lines): Step[] {
  const a = x.lines
  const b = y.lines
  const lcs: Uint32Array[] = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1))
  for (let i = a.length - 1; i >= 0; i--) {
    const row = lcs[i] as Uint32Array
    const below = lcs[i + 1] as Uint32Array
    for (let j = b.length - 1; j >= 0; j--) {
      row[j] =
        a[i] === b[j] ? (below[j + 1] as number) + 1 : Math.max(below[j] as number, row[j + 1] as number)
    }
  }
  const steps: Step[] = []
  let i = 0
  let j = 0
  // The last line of a side without a final newline differs from the same text with one.
  const lastA = (k: number): boolean => x.noNewlineAtEnd && k === a.length - 1
  const lastB = (k: number): boolean => y.noNewlineAtEnd && k === b.length - 1
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j] && lastA(i) === lastB(j)) {
      steps.push({ op: ' ', line: a[i] as string, last: lastA(i) })
      i++
      j++
    } else if (
      i < a.length &&
      (j === b.length || (lcs[i + 1] as Uint32Array)[j]! >= (lcs[i] as Uint32Array)[j + 1]!)
    ) {
      steps.push({ op: '-', line: a[i] as string, last: lastA(i) })
      i++
    } else {
      steps.push({ op: '+', line: b[j] as string, last: lastB(j) })
      j++
    }
  }
  return steps
}

/** Groups the steps into hunks: changes plus up to CONTEXT_LINES unchanged lines around them. */
function hunks(steps: Step[]): Array<{ from: number; to: number }> {
  const ranges: Array<{ from: number; to: number }> = []
  steps.forEach((step, index) => {
    if (step.op === ' ') return
    const from = Math.max(0, index - CONTEXT_LINES)
    const to = Math.min(steps.length, index + CONTEXT_LINES + 1)
    const previous = ranges[ranges.length - 1]
    if (previous !== undefined && from <= previous.to) previous.to = Math.max(previous.to, to)
    else ranges.push({ from, to })
  })
  return ranges
}

const range = (start: number, count: number): string =>
  count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`

/** A unified diff from `a` to `b`; '' when they are equal. */
export function unifiedDiff(a: string, b: string, labelA: string, labelB: string): string {
  if (a === b) return ''
  const x = splitLines(a)
  const y = splitLines(b)
  if (x.lines.length > DIFF_LINES_MAX || y.lines.length > DIFF_LINES_MAX) {
    return `(${x.lines.length} and ${y.lines.length} lines: too long to diff here; read both with --side or --json)`
  }
  const steps = editScript(x, y)
  const out = [`--- ${labelA}`, `+++ ${labelB}`]
  // Line numbers (1-based) in a and b where each step starts.
  const lineA: number[] = []
  const lineB: number[] = []
  let na = 1
  let nb = 1
  for (const step of steps) {
    lineA.push(na)
    lineB.push(nb)
    if (step.op !== '+') na++
    if (step.op !== '-') nb++
  }
  for (const { from, to } of hunks(steps)) {
    const part = steps.slice(from, to)
    const countA = part.filter((step) => step.op !== '+').length
    const countB = part.filter((step) => step.op !== '-').length
    out.push(`@@ -${range(lineA[from] as number, countA)} +${range(lineB[from] as number, countB)} @@`)
    for (const step of part) {
      out.push(step.op + step.line)
      if (step.last) out.push('\\ No newline at end of file')
    }
  }
  return out.join('\n')
}
