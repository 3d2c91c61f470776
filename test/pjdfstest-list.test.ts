import { describe, expect, test } from 'vitest'
// @ts-expect-error: a plain ESM script without types
import { expectedFailures, parseFailures } from '../scripts/pjdfstest.mjs'

const parse = parseFailures as (output: string) => string[]
const expected = expectedFailures as (list: string, members: number) => Set<string>

describe('the pjdfstest gate', () => {
  test('reads the failures the runner prints: numbered, unnumbered single ones and dead files', () => {
    // Goal: CI fails on every new failure, including a file with one failure the runner's
    // filtered output does not number, the wrapped end of a long list and a file that died.
    const output = [
      'chmod/02.t          (Wstat: 0 Tests: 5 Failed: 1)',
      'chown/00.t          (Wstat: 0 Tests: 1280 Failed: 0)',
      'rename/21.t         (Wstat: 0 Tests: 16 Failed: 3)',
      '  Failed tests:  12-14',
      'link/00.t           (Wstat: 256 Tests: 10 Failed: 2)',
      '  Failed tests:  3, 7',
      'link/02.t           (Wstat: 0 Tests: 200 Failed: 4)',
      '  Failed tests:  5, 31, 57',
      'Files=238, Tests=8798, 291 wallclock secs',
      '8792 passed, 6 failed'
    ].join('\n')
    expect(parse(output)).toEqual([
      'chmod/02.t ?',
      'rename/21.t 12',
      'rename/21.t 13',
      'rename/21.t 14',
      'link/00.t wstat',
      'link/00.t 3',
      'link/00.t 7',
      'link/02.t 5',
      'link/02.t 31',
      'link/02.t 57',
      'link/02.t ?'
    ])
  })

  test('the known list takes ranges, comments and entries for one membership only', () => {
    // Goal: an entry tagged [members=2] does not excuse the same failure in the one-member run.
    const list = '# why\nrename/21.t 12-14 # runner\nchmod/02.t ? [members=2]\nlink/00.t wstat\n'
    expect([...expected(list, 1)].sort()).toEqual([
      'link/00.t wstat',
      'rename/21.t 12',
      'rename/21.t 13',
      'rename/21.t 14'
    ])
    expect(expected(list, 2).has('chmod/02.t ?')).toBe(true)
  })
})
