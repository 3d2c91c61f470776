import { describe, expect, test } from 'vitest'
import { NS_PER_MS } from '@ivyfs/fs'
import { UTIME_NOW, UTIME_OMIT, fileTime, timespecOf, toFuseStat } from '../src/fuse-adapter.js'
import type { Attributes } from '../src/operations.js'

describe('fileTime', () => {
  test('a time is whole ms since the epoch plus the nanoseconds past them', () => {
    // Goal: utimensat's nanoseconds reach the fs whole, split where a JS number stays exact.
    const nowMs = 1_700_000_000_000
    expect(fileTime({ seconds: 1_000, nanoseconds: 500_000_000 }, nowMs)).toEqual({
      ms: 1_000_500,
      subMsNs: 0
    })
    expect(fileTime({ seconds: 0, nanoseconds: 0 }, nowMs)).toEqual({ ms: 0, subMsNs: 0 })
    expect(fileTime({ seconds: 981_173_106, nanoseconds: 123_456_789 }, nowMs)).toEqual({
      ms: 981_173_106_123,
      subMsNs: 456_789
    })
    expect(fileTime({ seconds: 2n ** 32n, nanoseconds: 999_999 }, nowMs)).toEqual({
      ms: 2 ** 32 * 1000,
      subMsNs: 999_999
    })
    expect(fileTime({ seconds: 1, nanoseconds: 999_999_999 }, nowMs)).toEqual({
      ms: 1999,
      subMsNs: NS_PER_MS - 1
    })
  })

  test('UTIME_NOW is now without nanoseconds; UTIME_OMIT leaves the time alone', () => {
    // Goal: utimensat's special values reach the fs as "now" and "keep", not as odd dates.
    const nowMs = 1_700_000_000_000
    expect(fileTime({ seconds: 5, nanoseconds: UTIME_NOW }, nowMs)).toEqual({ ms: nowMs, subMsNs: 0 })
    expect(fileTime({ seconds: 5, nanoseconds: UTIME_OMIT }, nowMs)).toBeUndefined()
  })

  test('the special values are libfuse’s own', async () => {
    // Goal: the constants match what the binding reports (a binding on another libfuse may differ).
    const { createRequire } = await import('node:module')
    const Fuse = createRequire(import.meta.url)('fuse-napi') as { UTIME_NOW: number; UTIME_OMIT: number }
    expect([Fuse.UTIME_NOW, Fuse.UTIME_OMIT]).toEqual([UTIME_NOW, UTIME_OMIT])
  })
})

describe('stat times for the kernel', () => {
  test('are timespecs built from ms and the remainder, and give back what utimens set', () => {
    // Goal: stat shows the nanoseconds utimensat set (touch -d '… .123456789'), before the epoch too.
    expect(timespecOf(981_173_106_123, 456_789)).toEqual({ seconds: 981_173_106, nanoseconds: 123_456_789 })
    expect(timespecOf(0, 0)).toEqual({ seconds: 0, nanoseconds: 0 })
    expect(timespecOf(-1, 5)).toEqual({ seconds: -1, nanoseconds: 999_000_005 })
    for (const [ms, subMsNs] of [
      [1_700_000_000_999, NS_PER_MS - 1],
      [1, 1],
      [2 ** 45, 500_000]
    ] as const) {
      expect(fileTime(timespecOf(ms, subMsNs), 0)).toEqual({ ms, subMsNs })
    }
  })

  test('toFuseStat reports atime and mtime to the nanosecond and ctime in whole ms', () => {
    // Goal: fuse-napi gets Timespec objects (a number would be taken as ms and lose the rest).
    const attributes: Attributes = {
      ino: 7,
      mode: 0o100644,
      uid: 1,
      gid: 2,
      size: 3,
      nlink: 1,
      blocks: 1,
      atimeMs: 1_000_001,
      atimeSubMsNs: 2,
      mtimeMs: 3_000_004,
      mtimeSubMsNs: 999_999,
      ctimeMs: 5_000_006,
      rdev: 0
    }
    expect(toFuseStat(attributes)).toMatchObject({
      atime: { seconds: 1000, nanoseconds: 1_000_002 },
      mtime: { seconds: 3000, nanoseconds: 4_999_999 },
      ctime: { seconds: 5000, nanoseconds: 6_000_000 }
    })
  })
})
