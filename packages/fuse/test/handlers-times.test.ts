import { constants } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { Filesystem, MemoryLog, type Attr } from '@ivyfs/fs'
import { IvyOperations, type Attributes } from '@ivyfs/fuse'
import { recordingLogger } from '../../../test/helpers/fuse-env.js'

const { O_WRONLY } = constants

/** The handlers over a one-member filesystem on a memory log: no kernel involved. */
async function setup(): Promise<{ ops: IvyOperations; fs: Filesystem; records: () => number }> {
  const log = new MemoryLog({ publicKey: new Uint8Array(32).fill(9) })
  const fs = await Filesystem.createOn(log, { lockMode: 'available' })
  const ops = new IvyOperations(fs, recordingLogger())
  return { ops, fs, records: () => log.length(log.keys.publicKey) }
}

/** 2001-02-03T04:05:06.123456789Z and 2002-…: whole ms and the nanoseconds past them. */
const A = { ms: Date.UTC(2001, 1, 3, 4, 5, 6, 123), subMsNs: 456_789 }
const M = { ms: Date.UTC(2002, 1, 3, 4, 5, 6, 987), subMsNs: 654_321 }

const times = (a: Attributes | Attr) => ({
  atime: { ms: a.atimeMs, subMsNs: a.atimeSubMsNs },
  mtime: { ms: a.mtimeMs, subMsNs: a.mtimeSubMsNs }
})

describe('utimens to the nanosecond', () => {
  test('of a file not open sets both whole times in the fs, and getattr reports them', async () => {
    // Goal: touch -d '… .123456789' keeps every digit: the handler passes ms and remainder on.
    const { ops, fs } = await setup()
    await fs.create('/f')
    await ops.utimens('/f', A, M)
    expect(times(await fs.getattr('/f'))).toEqual({ atime: A, mtime: M })
    expect(times(await ops.getattr('/f'))).toEqual({ atime: A, mtime: M })
    const [, , entry] = await ops.readdir('/')
    expect(times(entry!.attributes!)).toEqual({ atime: A, mtime: M })
  })

  test('an omitted time (UTIME_OMIT) keeps its nanoseconds; a time without them clears them', async () => {
    // Goal: touch -a leaves mtime whole; a later touch in whole ms does not keep old nanoseconds.
    const { ops, fs, records } = await setup()
    await fs.create('/f')
    await ops.utimens('/f', A, M)
    const now = { ms: 1_700_000_000_000, subMsNs: 0 }
    await ops.utimens('/f', now, undefined)
    expect(times(await ops.getattr('/f'))).toEqual({ atime: now, mtime: M })
    await ops.utimens('/f', undefined, now)
    expect(times(await ops.getattr('/f'))).toEqual({ atime: now, mtime: now })
    const before = records()
    await ops.utimens('/f', undefined, undefined) // both UTIME_OMIT: nothing to write
    expect(records()).toBe(before)
  })

  test('of an open file with pending writes: stat shows them, the close commits them in its record', async () => {
    // Goal: cp -a and tar set times (futimens) before close; the nanoseconds survive the commit.
    const { ops, fs, records } = await setup()
    await fs.create('/f')
    const handle = await ops.open('/f', O_WRONLY)
    await ops.write('/f', handle, Buffer.from('data'), 4, 0)
    const before = records()
    await ops.utimens('/f', A, M)
    expect(records()).toBe(before)
    expect(times(await ops.getattr('/f'))).toEqual({ atime: A, mtime: M })
    await ops.release('/f', handle)
    expect(records()).toBe(before + 1)
    expect(times(await fs.getattr('/f'))).toEqual({ atime: A, mtime: M })
  })

  test('pending writes show mtime as their own change time, without the committed nanoseconds', async () => {
    // Goal: a write changes mtime as a whole; stat of the open file never mixes the two times.
    const { ops, fs } = await setup()
    await fs.create('/f')
    await ops.utimens('/f', A, M)
    const handle = await ops.open('/f', O_WRONLY)
    await ops.write('/f', handle, Buffer.from('x'), 1, 0)
    const stat = await ops.getattr('/f')
    expect(stat.mtimeMs).toBeGreaterThan(M.ms)
    expect(stat.mtimeSubMsNs).toBe(0)
    expect(times(stat).atime).toEqual(A)
    await ops.release('/f', handle)
    expect((await fs.getattr('/f')).mtimeSubMsNs).toBe(0)
  })
})
