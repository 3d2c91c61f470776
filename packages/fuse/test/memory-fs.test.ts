import { spawn } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import {
  MemoryFilesystem,
  MountPointBusyError,
  MountPointMissingError,
  MountPointNotDirectoryError,
  MountPointNotEmptyError,
  mountMemoryFilesystem,
  mountOperations,
  type Caller,
  type DirectoryEntry,
  type MountHandle
} from '@ivyfs/fuse'
import {
  cleanUnmount,
  fuseMissing,
  recordingLogger,
  sh,
  shOk,
  tempDir,
  waitFor
} from '../../../test/helpers/fuse-env.js'

const SERVE_MEMORY = fileURLToPath(new URL('../../../test/helpers/fuse-serve-memory.mjs', import.meta.url))

describe.skipIf(fuseMissing())('in-memory mount plumbing', () => {
  let dir: { path: string; remove: () => Promise<void> }
  let mnt: string
  let handle: MountHandle | undefined

  beforeEach(async () => {
    dir = await tempDir('memfs')
    mnt = join(dir.path, 'mnt')
    await mkdir(mnt)
    handle = undefined
  })

  afterEach(async () => {
    await cleanUnmount(mnt, handle?.unmount)
    await dir.remove()
  })

  test('mounts with use_ino, default_permissions, no negative cache and the cache timeouts', async () => {
    // Goal: the options the mount relies on reach libfuse (the options object names only some).
    handle = await mountMemoryFilesystem(mnt)
    for (const option of ['negative_timeout=0', 'default_permissions', 'allow_other', 'attr_timeout=1']) {
      expect(handle.options).toContain(option)
    }
    const line = (await readFile('/proc/self/mountinfo', 'utf8'))
      .split('\n')
      .find((l) => l.includes(` ${mnt} `))
    expect(line).toMatch(/fuse\.ivyfs/)
    expect(line).toMatch(/default_permissions/)
  })

  test('serves the everyday shell file operations', async () => {
    // Goal: create, append, read, mkdir -p, links, rename and remove work through the kernel.
    handle = await mountMemoryFilesystem(mnt)
    const out = await shOk(
      'echo one > f && echo two >> f && cat f && mkdir -p a/b/c && ln f g && ln -s f s && ' +
        'readlink s && stat -c %h g && mv a z && ls && rm g && rm -r z && ls',
      mnt
    )
    expect(out).toBe('one\ntwo\nf\n2\nf\ng\ns\nz\nf\ns\n')
  })

  test('the kernel sends large writes (libfuse 3 negotiates up to 1 MiB)', async () => {
    // Goal: writes are not split into 4 KiB pages (that caps throughput near 100 MB/s).
    const lengths: number[] = []
    class Recording extends MemoryFilesystem {
      override write(path: string, fd: number, buffer: Buffer, length: number, position: number) {
        lengths.push(length)
        return super.write(path, fd, buffer, length, position)
      }
    }
    handle = await mountOperations(new Recording(), mnt)
    await shOk('dd if=/dev/zero of=big bs=1M count=4 status=none', mnt)
    expect(Math.max(...lengths)).toBeGreaterThanOrEqual(128 * 1024)
  })

  test('refuses a busy, missing, non-empty or non-directory mount point with typed errors', async () => {
    // Goal: each unusable mount point is a clear, typed error, never a stack trace from libfuse.
    handle = await mountMemoryFilesystem(mnt)
    await expect(mountMemoryFilesystem(mnt)).rejects.toBeInstanceOf(MountPointBusyError)
    await expect(mountMemoryFilesystem(join(dir.path, 'nowhere'))).rejects.toBeInstanceOf(
      MountPointMissingError
    )
    const full = join(dir.path, 'full')
    await mkdir(full)
    await writeFile(join(full, 'x'), 'x')
    await expect(mountMemoryFilesystem(full)).rejects.toBeInstanceOf(MountPointNotEmptyError)
    await expect(mountMemoryFilesystem(join(full, 'x'))).rejects.toBeInstanceOf(MountPointNotDirectoryError)
  })

  test('cleans up a stale mount left by a killed server, then mounts', async () => {
    // Goal: a daemon killed with SIGKILL leaves "Transport endpoint is not connected"; the next
    // mount releases it instead of failing.
    const child = spawn(process.execPath, [SERVE_MEMORY, mnt], { stdio: ['ignore', 'pipe', 'inherit'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    await waitFor(() => output.includes('mounted'), { what: 'the child to mount' })
    const exited = new Promise((resolve) => child.on('exit', resolve))
    child.kill('SIGKILL')
    await exited
    // The kernel aborts the connection once the server's last descriptor of /dev/fuse is gone.
    await waitFor(async () => /not connected/.test((await sh('stat mnt', dir.path)).stderr), {
      what: 'the mount to be left stale'
    })
    handle = await mountMemoryFilesystem(mnt)
    expect(await shOk('echo ok > f && cat f', mnt)).toBe('ok\n')
  })

  test('a handler that outlives its bound answers EIO, or EAGAIN for a create', async () => {
    // Goal: no handler can hold the kernel until fuse-napi's 15 s timeout.
    const logger = recordingLogger()
    const never = new Promise<never>(() => {})
    class Hanging extends MemoryFilesystem {
      override getattr(path: string) {
        return path === '/hang' ? never : super.getattr(path)
      }
      override create(path: string, mode: number, flags: number, caller: Caller) {
        return path === '/lock' ? never : super.create(path, mode, flags, caller)
      }
    }
    handle = await mountOperations(new Hanging(), mnt, { logger, handlerTimeoutMs: 300 })
    const started = Date.now()
    expect((await sh('stat hang', mnt)).stderr).toMatch(/Input\/output error/)
    expect((await sh('touch lock', mnt)).stderr).toMatch(/Resource temporarily unavailable/)
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(logger.errors.filter((message) => message === 'handler timed out')).toHaveLength(2)
  })

  test('an unexpected error is logged and answered with EIO', async () => {
    // Goal: only errors with an errno pass through; anything else is EIO and never silent.
    const logger = recordingLogger()
    class Broken extends MemoryFilesystem {
      override readdir(path: string): Promise<DirectoryEntry[]> {
        return path === '/broken' ? Promise.reject(new TypeError('bug')) : super.readdir(path)
      }
    }
    handle = await mountOperations(new Broken(), mnt, { logger })
    const result = await sh('mkdir broken && ls broken', mnt)
    expect(result.stderr).toMatch(/Input\/output error/)
    expect(logger.errors.some((message) => message.includes('unexpected error'))).toBe(true)
    expect((await sh('mkdir ok && ls ok', mnt)).code).toBe(0)
  })
})
