/**
 * Checks a mount point before mounting: it must exist, be a directory and be empty, and nothing
 * live may be mounted there. A FUSE mount whose server is gone (killed daemon: "Transport
 * endpoint is not connected") or hung is released first with the unstick sequence of
 * ENVIRONMENT.md: abort its fusectl connection, then unmount lazily.
 */
import { execFile, spawn } from 'node:child_process'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import {
  MountPointBusyError,
  MountPointMissingError,
  MountPointNotDirectoryError,
  MountPointNotEmptyError,
  StaleMountError
} from './errors.js'
import type { Logger } from './logger.js'

const run = promisify(execFile)

/** A live FUSE server answers a stat at once; one that has not in this long is hung. */
const PROBE_TIMEOUT_MS = 2_000
const FUSECTL_DIR = '/sys/fs/fuse/connections'

export interface MountEntry {
  mountPoint: string
  fsType: string
  /** major:minor; for FUSE the minor is the fusectl connection number. */
  device: string
}

/** Mounts from /proc/self/mountinfo (octal escapes such as \040 decoded). */
export async function readMounts(): Promise<MountEntry[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8')
  const entries: MountEntry[] = []
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ')
    if (left === undefined || right === undefined) continue
    const fields = left.split(' ')
    const device = fields[2]
    const mountPoint = fields[4]
    const fsType = right.split(' ')[0]
    if (device === undefined || mountPoint === undefined || fsType === undefined) continue
    entries.push({ mountPoint: unescapeMountinfo(mountPoint), fsType, device })
  }
  return entries
}

export async function findMount(mountPoint: string): Promise<MountEntry | undefined> {
  const matches = (await readMounts()).filter((entry) => entry.mountPoint === mountPoint)
  return matches[matches.length - 1]
}

/** Throws a typed error unless `mountPoint` (absolute) can be mounted on now. */
export async function prepareMountPoint(mountPoint: string, logger: Logger): Promise<void> {
  const mounted = await findMount(mountPoint)
  if (mounted !== undefined) {
    if (!mounted.fsType.startsWith('fuse')) throw new MountPointBusyError(mountPoint, mounted.fsType)
    const state = await probe(mountPoint)
    if (state === 'alive') throw new MountPointBusyError(mountPoint, mounted.fsType)
    logger.warn(`releasing a ${state} FUSE mount left on ${mountPoint}`, { device: mounted.device })
    await releaseStaleMount(mountPoint, mounted)
  }
  let isDirectory: boolean
  try {
    isDirectory = (await stat(mountPoint)).isDirectory()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MountPointMissingError(mountPoint)
    throw err
  }
  if (!isDirectory) throw new MountPointNotDirectoryError(mountPoint)
  if ((await readdir(mountPoint)).length > 0) throw new MountPointNotEmptyError(mountPoint)
}

/**
 * Stats the mount point from a child process: never from this one, which may be the server of
 * that very mount (a blocked thread-pool thread would never come back).
 */
export function probe(mountPoint: string): Promise<'alive' | 'dead' | 'hung'> {
  return new Promise((resolve) => {
    const child = spawn('stat', ['-c', '%i', mountPoint], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      child.unref()
      resolve('hung')
    }, PROBE_TIMEOUT_MS)
    child.on('error', () => {
      clearTimeout(timer)
      resolve('dead')
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      // Anything but a lost connection counts as alive: never unmount what might be in use.
      resolve(code !== 0 && /not connected|connection abort/i.test(stderr) ? 'dead' : 'alive')
    })
  })
}

/** The unstick sequence: abort the fusectl connection (root only), then unmount lazily. */
export async function releaseStaleMount(mountPoint: string, entry: MountEntry): Promise<void> {
  const connection = entry.device.split(':')[1]
  if (process.getuid?.() === 0 && connection !== undefined) {
    try {
      await ensureFusectl()
      await writeFile(`${FUSECTL_DIR}/${connection}/abort`, '1')
    } catch {
      // the connection may already be gone; the unmount below is what matters
    }
  }
  const attempts: Array<[string, string[]]> = [
    ['umount', ['-l', mountPoint]],
    ['fusermount3', ['-uz', mountPoint]]
  ]
  const failures: string[] = []
  for (const [command, args] of attempts) {
    try {
      await run(command, args, { timeout: PROBE_TIMEOUT_MS })
    } catch (err) {
      failures.push(`${command}: ${(err as Error).message.trim()}`)
    }
    if ((await findMount(mountPoint)) === undefined) return
  }
  throw new StaleMountError(mountPoint, failures.join('; ') || 'still mounted')
}

async function ensureFusectl(): Promise<void> {
  const mounted = (await readMounts()).some((entry) => entry.mountPoint === FUSECTL_DIR)
  if (!mounted) await run('mount', ['-t', 'fusectl', 'none', FUSECTL_DIR], { timeout: PROBE_TIMEOUT_MS })
}

function unescapeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)))
}

/**
 * Forcibly frees whatever FUSE mount is on `mountPoint` (abort its connection, unmount lazily):
 * for a hung or abandoned mount. Resolves false when nothing was mounted there.
 */
export async function forceUnmount(mountPoint: string): Promise<boolean> {
  const target = resolve(mountPoint)
  const entry = await findMount(target)
  if (entry === undefined) return false
  if (!entry.fsType.startsWith('fuse')) throw new MountPointBusyError(target, entry.fsType)
  await releaseStaleMount(target, entry)
  return true
}
