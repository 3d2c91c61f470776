import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { mountFilesystem, type FilesystemMountHandle, type MountInit } from '@ivyfs/fuse'
import { afterEach, describe, expect, test } from 'vitest'
import {
  cleanUnmount,
  fuseMissing,
  recordingLogger,
  sh,
  shOk,
  tempDir,
  waitFor
} from '../helpers/fuse-env.js'
import { mountIvy, type MountedIvy } from '../helpers/fuse-ivy.js'
import { makePeers, sync, type Peer } from '../helpers/fuse-peers.js'

const SLOW_WRITER = fileURLToPath(new URL('../helpers/fuse-slow-writer.mjs', import.meta.url))
const MIB = 1024 * 1024
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

describe.skipIf(fuseMissing())('close-to-open consistency of the ivyfs mount', () => {
  const cleanups: Array<() => Promise<void>> = []

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  test('other peers see a file written through the mount whole, at close, never half', async () => {
    // Goal: until close, the records hold the old content even after 12 MiB were written (and
    // staged in the blob store); after close they hold all of the new content.
    const ivy: MountedIvy = await mountIvy()
    cleanups.push(ivy.cleanup)
    await shOk('echo old > f', ivy.mnt)
    const signals = join(ivy.scratch, 'signals')
    await mkdir(signals)
    const half = 12 * MIB
    const writer = spawn(process.execPath, [SLOW_WRITER, join(ivy.mnt, 'f'), String(half), signals])
    const exited = new Promise<number | null>((resolve) => writer.on('exit', resolve))
    await waitFor(() => existsSync(join(signals, 'wrote')), { what: 'the first half' })
    expect(text(await ivy.fs.read('/f', 0, 100))).toBe('old\n')
    expect((await ivy.fs.getattr('/f')).size).toBe(4)
    await writeFile(join(signals, 'go'), '')
    expect(await exited).toBe(0)
    const attr = await ivy.fs.getattr('/f')
    expect(attr.size).toBe(2 * half)
    expect(text(await ivy.fs.read('/f', half - 2, 4))).toBe('aabb')
  })

  test('unmounting commits what a still-open file holds', async () => {
    // Goal: data written before an unmount (daemon shutdown) is not lost because the file's
    // release never reaches a mount that is gone.
    const ivy: MountedIvy = await mountIvy()
    cleanups.push(ivy.cleanup)
    const signals = join(ivy.scratch, 'signals')
    await mkdir(signals)
    const writer = spawn(process.execPath, [SLOW_WRITER, join(ivy.mnt, 'f'), String(MIB), signals])
    const exited = new Promise<number | null>((resolve) => writer.on('exit', resolve))
    await waitFor(() => existsSync(join(signals, 'wrote')), { what: 'the write' })
    await ivy.handle.unmount()
    expect((await ivy.fs.getattr('/f')).size).toBe(MIB)
    // libfuse 3 ends the session at unmount: the writer's later write fails (ENOTCONN) instead of
    // reaching a filesystem that is shutting down, and what it wrote before is committed.
    await writeFile(join(signals, 'go'), '')
    expect(await exited).not.toBe(0)
    expect((await ivy.fs.getattr('/f')).size).toBe(MIB)
    expect(text(await ivy.fs.read('/f', MIB - 2, 2))).toBe('aa')
  })

  test('a change from another peer shows up on the mount although the kernel caches for a minute', async () => {
    // Goal: remote changes do not wait for the kernel's caches: with attribute and entry timeouts
    // of 60 s, the new bytes (a longer file: a stale cached size would cut them short), a rename,
    // a new device node and a removal still show, because the mount invalidates the paths of the
    // inodes another peer's records change.
    const [local, remote] = await mountPeers(cleanups, { attrTimeoutSeconds: 60, entryTimeoutSeconds: 60 })
    const shows = (command: string, expected: string, what: string): Promise<void> =>
      waitFor(async () => (await sh(command, local.mnt)).stdout === expected, { what, timeoutMs: 5_000 })
    await remote.fs.create('/news')
    await remote.fs.write('/news', 0, new TextEncoder().encode('first'))
    sync(remote, local.peer)
    await shows('cat news && stat -c %s:%a news', 'first5:644\n', 'first')
    // stat alone (no read, which would make the kernel look at the size itself): the cached
    // attributes are what the kernel answers until the mount invalidates them.
    await remote.fs.write('/news', 0, new TextEncoder().encode('second, longer'))
    await remote.fs.setattr('/news', { mode: 0o600 })
    sync(remote, local.peer)
    await shows('stat -c %s:%a news', '14:600\n', 'the remote change')
    await shows('cat news', 'second, longer', 'the new bytes')
    await remote.fs.rename('/news', '/renamed')
    await remote.fs.mknod('/tty', 'chardev', 0o620, (4 << 8) | 1)
    sync(remote, local.peer)
    await shows('ls && stat -c "%F %t:%T" tty', 'renamed\ntty\ncharacter special file 4:1\n', 'the rename')
    await shows('cat news 2>&1 | grep -c "No such file"', '1\n', 'the old name gone')
    await remote.fs.unlink('/renamed')
    sync(remote, local.peer)
    await shows('cat renamed 2>&1 | grep -c "No such file"', '1\n', 'the removal')
  })
})

async function mountPeers(
  cleanups: Array<() => Promise<void>>,
  init: MountInit = {}
): Promise<[{ peer: Peer; mnt: string }, Peer]> {
  const [a, b] = await makePeers(['a', 'b'], 'available')
  const dir = await tempDir('peers')
  const mnt = join(dir.path, 'mnt')
  await mkdir(mnt)
  const logger = recordingLogger()
  const handle: FilesystemMountHandle = await mountFilesystem(a!.fs, mnt, { logger, ...init })
  cleanups.push(async () => {
    await cleanUnmount(mnt, handle.unmount)
    await a!.fs.close()
    await b!.fs.close()
    await dir.remove()
    expect(logger.errors).toEqual([])
  })
  return [{ peer: a!, mnt }, b!]
}
