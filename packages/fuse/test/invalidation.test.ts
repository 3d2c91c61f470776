import { AsyncLocalStorage } from 'node:async_hooks'
import { describe, expect, test } from 'vitest'
import { constants } from 'node:fs'
import { Filesystem, MemoryLog } from '@ivyfs/fs'
import { IvyOperations, RememberedPaths } from '@ivyfs/fuse'
import { EntryInvalidator } from '../src/invalidation.js'
import { recordingLogger } from '../../../test/helpers/fuse-env.js'

describe('remembered paths', () => {
  test('an inode’s paths are all its looked-up names; a name that now leads elsewhere moves', () => {
    // Goal: a remote change to an inode invalidates every name the kernel may have cached for it.
    const paths = new RememberedPaths(10)
    paths.note('/a', 'i1')
    paths.note('/b', 'i1')
    paths.note('/c', 'i2')
    expect(paths.pathsOf(['i1']).sort()).toEqual(['/a', '/b'])
    expect(paths.linkedPathsOf(['i1', 'i2']).sort()).toEqual(['/a', '/b'])
    paths.note('/b', 'i2') // /b was replaced by another inode
    expect(paths.pathsOf(['i1'])).toEqual(['/a'])
    expect(paths.pathsOf(['i2']).sort()).toEqual(['/b', '/c'])
    expect(paths.linkedPathsOf(['i1'])).toEqual([])
  })

  test('past the bound the least recently looked-up path goes first', () => {
    // Goal: memory stays bounded whatever the kernel looks up.
    const paths = new RememberedPaths(2)
    paths.note('/a', 'i1')
    paths.note('/b', 'i2')
    paths.note('/a', 'i1') // looked up again: now the newest
    paths.note('/c', 'i3')
    expect(paths.size).toBe(2)
    expect(paths.pathsOf(['i1', 'i2', 'i3']).sort()).toEqual(['/a', '/c'])
  })
})

describe('entry invalidator', () => {
  test('sends each queued path once, one at a time, outside the async context that queued it', async () => {
    // Goal: fuse-napi refuses an invalidation made inside a request's context (EDEADLK); paths
    // queued from a request are sent by the loop started at mount time, deduplicated.
    const request = new AsyncLocalStorage<string>()
    const sent: Array<{ path: string; context: string | undefined }> = []
    let inFlight = 0
    let maxInFlight = 0
    const invalidator = new EntryInvalidator((path, cb) => {
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      sent.push({ path, context: request.getStore() })
      setImmediate(() => {
        inFlight--
        cb(path === '/bad' ? new Error('ENOTCONN') : null)
      })
    }, recordingLogger())
    request.run('a request', () => invalidator.add(['/x', '/y', '/x', '/', '/bad']))
    request.run('a request', () => invalidator.add(['/y', '/z']))
    const deadline = Date.now() + 5_000
    while (sent.length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(sent.map((entry) => entry.path)).toEqual(['/x', '/y', '/bad', '/z'])
    expect(sent.every((entry) => entry.context === undefined)).toBe(true)
    expect(maxInFlight).toBe(1)
    invalidator.close()
    invalidator.add(['/after'])
    expect(invalidator.queued).toBe(0)
  })
})

describe('stale entries after this mount’s own changes', () => {
  test('a close that commits and a new hard link name the paths the kernel cached before', async () => {
    // Goal: the commit's record time becomes the file's ctime after the kernel cached the
    // pending one, and a link leaves the other name's nlink old: both are invalidated.
    const fs = await Filesystem.createOn(new MemoryLog({ publicKey: new Uint8Array(32).fill(9) }), {
      lockMode: 'available'
    })
    const ops = new IvyOperations(fs, recordingLogger())
    const stale: string[][] = []
    const committed: string[] = []
    ops.invalidate = (paths) => stale.push([...paths])
    ops.openFiles.afterCommit = (ino) => committed.push(ino)
    const caller = { uid: 0, gid: 0, pid: 1, umask: 0o022 }
    const handle = await ops.create(
      '/f',
      constants.S_IFREG | 0o644,
      constants.O_CREAT | constants.O_WRONLY,
      caller
    )
    await ops.getattr('/f') // the kernel looks it up
    await ops.write('/f', handle, Buffer.from('x'), 1, 0)
    await ops.flush('/f', handle)
    await ops.release('/f', handle)
    expect(committed).toEqual([(await fs.getattr('/f')).ino])
    await ops.link('/f', '/g')
    expect(stale).toEqual([['/f']])
  })
})
