import { describe, expect, test } from 'vitest'
import { UTIME_NOW, UTIME_OMIT, timespecMs } from '../src/fuse-adapter.js'

describe('timespecMs', () => {
  test('a time is ms since the epoch; UTIME_NOW is now and UTIME_OMIT leaves the time alone', () => {
    // Goal: utimensat's special values reach the fs as "now" and "keep", not as odd dates.
    const nowMs = 1_700_000_000_000
    expect(timespecMs({ seconds: 1_000, nanoseconds: 500_000_000 }, nowMs)).toBe(1_000_500)
    expect(timespecMs({ seconds: 0, nanoseconds: 0 }, nowMs)).toBe(0)
    expect(timespecMs({ seconds: 5, nanoseconds: UTIME_NOW }, nowMs)).toBe(nowMs)
    expect(timespecMs({ seconds: 5, nanoseconds: UTIME_OMIT }, nowMs)).toBeUndefined()
    expect(timespecMs({ seconds: 2n ** 32n, nanoseconds: 999_999 }, nowMs)).toBe(2 ** 32 * 1000)
  })

  test('the special values are libfuse’s own', async () => {
    // Goal: the constants match what the binding reports (a binding on another libfuse may differ).
    const { createRequire } = await import('node:module')
    const Fuse = createRequire(import.meta.url)('fuse-napi') as { UTIME_NOW: number; UTIME_OMIT: number }
    expect([Fuse.UTIME_NOW, Fuse.UTIME_OMIT]).toEqual([UTIME_NOW, UTIME_OMIT])
  })
})
