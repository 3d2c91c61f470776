import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { mountFilesystem } from '@ivyfs/fuse'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { cleanUnmount, fuseMissing, recordingLogger, sh, shOk, tempDir } from '../helpers/fuse-env.js'
import { makePeers, sync, type Peer } from '../helpers/fuse-peers.js'

const bytes = (value: string): Uint8Array => new TextEncoder().encode(value)

describe.skipIf(fuseMissing())('/.ivy/conflicts on the mount', () => {
  let peers: Peer[]
  let mnt: string
  let cleanup: () => Promise<void>

  beforeEach(async () => {
    peers = await makePeers(['a', 'b'], 'available')
    const dir = await tempDir('conflicts')
    mnt = join(dir.path, 'mnt')
    await mkdir(mnt)
    const logger = recordingLogger()
    const handle = await mountFilesystem(peers[0]!.fs, mnt, { logger })
    cleanup = async () => {
      await cleanUnmount(mnt, handle.unmount)
      for (const peer of peers) await peer.fs.close()
      await dir.remove()
      expect(logger.errors).toEqual([])
    }
  })

  afterEach(async () => {
    await cleanup()
  })

  test('lists one readable entry per open conflict', async () => {
    // Goal: two peers writing the same bytes concurrently leave a conflict that the mount shows
    // as a file describing both sides and how to resolve it.
    const [a, b] = peers as [Peer, Peer]
    await a.fs.create('/doc')
    sync(a, b)
    expect(await shOk('ls -A .ivy/conflicts', mnt)).toBe('')
    await a.fs.write('/doc', 0, bytes('from a'))
    await b.fs.write('/doc', 0, bytes('from b'))
    sync(b, a)
    const listing = await shOk('ls .ivy/conflicts', mnt)
    const ids = listing.trim().split('\n')
    expect(ids).toHaveLength(1)
    const description = await shOk(`cat .ivy/conflicts/${ids[0]}`, mnt)
    expect(description).toContain(`conflict ${ids[0]}`)
    expect(description).toContain('kind: data')
    expect(description).toContain('/doc')
    expect(description).toMatch(/resolve with: ivy resolve/)
    const size = await shOk(`stat -c %s .ivy/conflicts/${ids[0]}`, mnt)
    expect(Number(size)).toBe(Buffer.byteLength(description))
  })

  test('is read-only and kept out of the root listing', async () => {
    // Goal: /.ivy/ never ends up in copies of the tree and cannot be changed through the mount.
    await shOk('touch f', mnt)
    expect(await shOk('ls -A', mnt)).toBe('f\n')
    expect(await shOk('ls -A .ivy', mnt)).toBe('conflicts\n')
    for (const command of [
      'touch .ivy/x',
      'mkdir .ivy/conflicts/d',
      'rm -r .ivy',
      'mv f .ivy/f',
      'mkdir .ivy'
    ]) {
      const result = await sh(command, mnt)
      expect(result.code, command).not.toBe(0)
      expect(result.stderr, command).toMatch(/Read-only file system|File exists|Permission denied/)
    }
  })
})
