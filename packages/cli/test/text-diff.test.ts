import { describe, expect, test } from 'vitest'
import { CONTEXT_LINES, DIFF_LINES_MAX, looksLikeText, unifiedDiff } from '../src/text-diff.js'

const lines = (n: number, change?: { at: number; to: string }): string =>
  Array.from({ length: n }, (_, i) =>
    change !== undefined && i === change.at ? change.to : `line ${i + 1}`
  ).join('\n') + '\n'

describe('unifiedDiff', () => {
  test('equal texts have an empty diff', () => {
    // Goal: "no difference" prints nothing rather than headers alone.
    expect(unifiedDiff('a\nb\n', 'a\nb\n', 'ours', 'theirs')).toBe('')
  })

  test('a changed line is a hunk with headers, - then +, and its context', () => {
    // Goal: the output is a standard unified diff that people and `patch` read.
    expect(unifiedDiff('one\ntwo\nthree\n', 'one\nTWO\nthree\n', 'ours', 'theirs')).toBe(
      ['--- ours', '+++ theirs', '@@ -1,3 +1,3 @@', ' one', '-two', '+TWO', ' three'].join('\n')
    )
  })

  test('changes far apart become separate hunks with at most CONTEXT_LINES of context', () => {
    // Goal: long files show only what changed, with correct line numbers in each hunk header.
    const a = lines(40)
    const b = lines(40, { at: 4, to: 'five' }).replace('line 35\n', 'thirty-five\n')
    const diff = unifiedDiff(a, b, 'a', 'b').split('\n')
    const headers = diff.filter((line) => line.startsWith('@@'))
    expect(headers).toEqual(['@@ -2,7 +2,7 @@', '@@ -32,7 +32,7 @@'])
    const firstHunk = diff.slice(3, 3 + 2 * CONTEXT_LINES + 2)
    expect(firstHunk).toEqual([
      ' line 2',
      ' line 3',
      ' line 4',
      '-line 5',
      '+five',
      ' line 6',
      ' line 7',
      ' line 8'
    ])
  })

  test('insertions and deletions at the ends get the right ranges', () => {
    // Goal: empty ranges use the line before them (0 for the start), as diff(1) does.
    expect(unifiedDiff('', 'new\n', 'a', 'b')).toBe(['--- a', '+++ b', '@@ -0,0 +1 @@', '+new'].join('\n'))
    expect(unifiedDiff('x\ny\n', 'x\n', 'a', 'b')).toBe(
      ['--- a', '+++ b', '@@ -1,2 +1 @@', ' x', '-y'].join('\n')
    )
  })

  test('a missing final newline is marked and counts as a difference', () => {
    // Goal: "abc" and "abc\n" are different files and the diff says why.
    expect(unifiedDiff('abc\n', 'abc', 'a', 'b')).toBe(
      ['--- a', '+++ b', '@@ -1 +1 @@', '-abc', '+abc', '\\ No newline at end of file'].join('\n')
    )
  })

  test('texts over DIFF_LINES_MAX lines are summarised, not diffed', () => {
    // Goal: the quadratic LCS never runs on huge inputs.
    const big = lines(DIFF_LINES_MAX + 1)
    expect(unifiedDiff(big, big + 'more\n', 'a', 'b')).toMatch(/too long to diff here/)
  })
})

describe('looksLikeText', () => {
  test('UTF-8 without NUL is text; NUL bytes or invalid UTF-8 are binary', () => {
    // Goal: binaries get sizes and hashes instead of a garbled diff.
    expect(looksLikeText(new TextEncoder().encode('héllo\n'))).toBe(true)
    expect(looksLikeText(new Uint8Array([104, 0, 105]))).toBe(false)
    expect(looksLikeText(new Uint8Array([0xff, 0xfe, 0x41]))).toBe(false)
  })
})
