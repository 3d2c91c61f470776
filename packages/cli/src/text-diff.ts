/** A small line diff (LCS) for `ivy conflicts show`: text versions side by side as a unified diff. */

/** Diffs longer than this many lines on either side are summarised instead (LCS is O(n·m)). */
export const DIFF_LINES_MAX = 2000

export function looksLikeText(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false
  const text = Buffer.from(bytes).toString('utf8')
  return !text.includes('\uFFFD')
}

export function unifiedDiff(a: string, b: string, labelA: string, labelB: string): string {
  const x = a.split('\n')
  const y = b.split('\n')
  if (x.length > DIFF_LINES_MAX || y.length > DIFF_LINES_MAX) {
    return `(${x.length} and ${y.length} lines: too long to diff here; read both with --json)`
  }
  // lcs[i][j] = length of the LCS of x[i..] and y[j..]
  const lcs: Uint32Array[] = Array.from({ length: x.length + 1 }, () => new Uint32Array(y.length + 1))
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!)
    }
  }
  const out = [`--- ${labelA}`, `+++ ${labelB}`]
  let i = 0
  let j = 0
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      out.push(`  ${x[i]}`)
      i++
      j++
    } else if (j < y.length && (i === x.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      out.push(`+ ${y[j]}`)
      j++
    } else {
      out.push(`- ${x[i]}`)
      i++
    }
  }
  return out.join('\n')
}
