import { describe, expect, test, vi } from 'vitest'
import { utimensTimes } from '../src/fuse-adapter.js'

describe('utimensTimes', () => {
  test('the rebuilt addon: atime and mtime apart, 1 ms is UTIME_OMIT, 2 ms is UTIME_NOW', () => {
    vi.useFakeTimers({ now: 1_700_000_000_000 })
    try {
      expect(utimensTimes(1_000_000, 2_000_000, true)).toEqual({ atimeMs: 1_000_000, mtimeMs: 2_000_000 })
      expect(utimensTimes(1, 2_000_000, true)).toEqual({ atimeMs: undefined, mtimeMs: 2_000_000 })
      expect(utimensTimes(2, 1, true)).toEqual({ atimeMs: 1_700_000_000_000, mtimeMs: undefined })
      expect(utimensTimes(0, 0, true)).toEqual({ atimeMs: 0, mtimeMs: 0 })
    } finally {
      vi.useRealTimers()
    }
  })

  test('the prebuilt addon: the atime slot is both times, and its mangled UTIME_NOW/OMIT is now', () => {
    vi.useFakeTimers({ now: 1_700_000_000_000 })
    try {
      expect(utimensTimes(5_000_000, 9, false)).toEqual({ atimeMs: 5_000_000, mtimeMs: 5_000_000 })
      expect(utimensTimes(1_073, 9, false)).toEqual({
        atimeMs: 1_700_000_000_000,
        mtimeMs: 1_700_000_000_000
      })
    } finally {
      vi.useRealTimers()
    }
  })
})
