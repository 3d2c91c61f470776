import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkFuse, forceUnmount } from '@ivyfs/fuse'
import { afterEach, describe, expect, test } from 'vitest'
import { callDaemon } from '../src/control-client.js'
import { Daemon } from '../src/daemon.js'
import { dataPaths } from '../src/data-dir.js'
import { createLogger } from '../src/logger.js'
import { initDataDir } from '../src/setup.js'
import type { Status } from '../src/status.js'

const quiet = createLogger({ level: 'error', write: () => undefined })
const fuseMissing = (): boolean => process.env['IVYFS_REQUIRE_FUSE'] !== '1' && checkFuse() !== null

/** Whether the kernel lists a mount on `dir` (read from mountinfo: never touch the mount in-process). */
async function kernelHasMount(dir: string): Promise<boolean> {
  const text = await readFile('/proc/self/mountinfo', 'utf8')
  return text.split('\n').some((line) => line.split(' ')[4] === dir)
}

/** `mkdir name` in `dir` from a child shell (this process serves the mount). */
function mkdirIn(dir: string, name: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'sh',
      ['-c', `cd "$D" && mkdir "${name}"`],
      { env: { ...process.env, D: dir } },
      (err, _out, stderr) =>
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stderr })
    )
  })
}

describe.skipIf(fuseMissing())('daemon start order', () => {
  let root: string | undefined
  let daemon: Daemon | undefined

  afterEach(async () => {
    await daemon?.stop()
    daemon = undefined
    if (root !== undefined) {
      await forceUnmount(join(root, 'mnt')).catch(() => undefined)
      await rm(root, { recursive: true, force: true })
    }
    root = undefined
  })

  test('the control socket answers only once the mount is in place', async () => {
    // Goal: "the daemon answers" means "its mount is up". A daemon that served its socket before
    // mounting let a client that waited for it (the mounted-cluster tests) run `mkdir` on the bare
    // mount point: it succeeded on the local disk, outside the exclusive-create protocol (two
    // winners of one mkdir), and then made the mount itself fail as "not empty".
    root = await mkdtemp(join(tmpdir(), 'ivy-start-order-'))
    const paths = dataPaths(join(root, 'data'))
    const mountPoint = join(root, 'mnt')
    await mkdir(mountPoint)
    await initDataDir(paths, { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false }, quiet)

    let first: { status: Status; mounted: boolean; raced: { code: number; stderr: string } } | undefined
    let starting = true
    const poll = (async () => {
      while (starting && first === undefined) {
        try {
          const status = await callDaemon<Status>(paths.socket, 'status')
          // What a program run right now sees: the mount, or the bare directory below it.
          const mounted = await kernelHasMount(mountPoint)
          first = { status, mounted, raced: await mkdirIn(mountPoint, 'first') }
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 1))
        }
      }
    })()
    daemon = await Daemon.start({
      dataDir: paths.dir,
      mount: mountPoint,
      bootstrap: [],
      mdns: false,
      logger: quiet
    })
    await new Promise((resolve) => setTimeout(resolve, 200))
    starting = false
    await poll

    expect(first).toBeDefined()
    expect(first?.status.mount).toBe(mountPoint)
    expect(first?.mounted).toBe(true)
    expect(first?.raced.code).toBe(0)
    // The mkdir went through ivyfs, so it is in the filesystem's view.
    expect((await daemon.fs.getattr('/first')).kind).toBe('dir')
    expect(daemon.mountPoint).toBe(mountPoint)
  })
})
