/**
 * Mounts any MountOperations with fuse-napi (libfuse 3): the mount options ivyfs needs (some of
 * which fuse-napi's options object cannot express), the caller of every request, typed errors for
 * every way mounting or unmounting fails, stale mount cleanup beforehand, a time bound on every
 * handler, and entry invalidation for changes made elsewhere.
 */
import { resolve } from 'node:path'
import {
  ATTR_TIMEOUT_SECONDS,
  ENTRY_TIMEOUT_SECONDS,
  FUSE_TIMEOUT_MS,
  HANDLER_TIMEOUT_MS,
  MAX_CONCURRENCY,
  NEGATIVE_TIMEOUT_SECONDS
} from './constants.js'
import { FuseError, MountFailedError, UnmountFailedError } from './errors.js'
import type { LoadFuseComponents } from './availability.js'
import { EntryInvalidator, type InvalidateEntry } from './invalidation.js'
import { loadFuse } from './loader.js'
import { silentLogger, type Logger } from './logger.js'
import { findMount, prepareMountPoint } from './mount-point.js'
import { toFuseOperations } from './fuse-adapter.js'
import type { MountOperations } from './operations.js'

/** A live FUSE server answers init quickly; no answer in this long means the mount failed. */
const MOUNT_TIMEOUT_MS = 10_000
/** Any period works: the interval only keeps the event loop referenced while mounted. */
const KEEP_ALIVE_INTERVAL_MS = 1 << 30
/** What scripts/build-fuse-napi.mjs adds to fuse-napi. */
interface PathInvalidation {
  invalidatePath(path: string, cb: (err?: Error | null) => void): void
}

const UNPATCHED =
  "fuse-napi was not built by scripts/build-fuse-napi.mjs: st_ino is libfuse's own, so hard links " +
  'show different inode numbers, and remote changes below the root wait for the cache timeouts ' +
  '(run bash scripts/install.sh)'

export interface MountInit {
  logger?: Logger
  /** Kernel attribute cache lifetime; see constants.ts for why the default is short. */
  attrTimeoutSeconds?: number
  /** Kernel name-lookup cache lifetime. */
  entryTimeoutSeconds?: number
  /** Bound on every handler (must stay below fuse-napi's 15 s). */
  handlerTimeoutMs?: number
  /** Let other users into the mount; default: when running as root (as the daemon does). */
  allowOther?: boolean
  /** Shown as the source in the mount table (`ivyfs` by default). */
  fsName?: string
  /** libfuse debug output on stderr. */
  debug?: boolean
  /** Native request workers of fuse-napi (1..64): requests the kernel may have in flight at once. */
  maxConcurrency?: number
  /** Where to look for FUSE (tests inject failures). */
  loader?: LoadFuseComponents
}

export interface MountHandle {
  /** Absolute path of the mount. */
  readonly mountPoint: string
  /** The -o options the mount was made with (for logs and tests). */
  readonly options: string
  /**
   * Asks the kernel to drop its cached entries for these paths (changes another peer made), off
   * the request threads; a later access looks them up afresh.
   */
  invalidate(paths: Iterable<string>): void
  /** Unmounts (lazily, as fusermount3 -uz does); safe to call twice. */
  unmount(): Promise<void>
}

/**
 * libfuse 3 options that fuse-napi's options object does not name, added to its `-o` string.
 * negative_timeout=0: a name another peer creates is visible at once. libfuse 3 always sends big
 * writes (up to its negotiated max_write) and passes O_TRUNC to open (atomic_o_trunc is on by
 * default), so the libfuse 2 options for those are gone; use_ino is no option in libfuse 3 but a
 * field of the init hook's fuse_config, which scripts/build-fuse-napi.mjs sets. No
 * kernel_cache/auto_cache: every open drops cached pages, which is what close-to-open
 * consistency with other peers needs.
 */
export function extraMountOptions(): string[] {
  return [`negative_timeout=${NEGATIVE_TIMEOUT_SECONDS}`]
}

/** Mounts `ops` on `mountPoint` (an empty directory) and resolves once the kernel has it. */
export async function mountOperations(
  ops: MountOperations,
  mountPoint: string,
  init: MountInit = {}
): Promise<MountHandle> {
  const logger = init.logger ?? silentLogger
  const Fuse = loadFuse(init.loader)
  const target = resolve(mountPoint)
  await prepareMountPoint(target, logger)

  const extra = extraMountOptions().join(',')
  class IvyMount extends Fuse {
    _fuseOptions(): string {
      const base = (Fuse.prototype as unknown as { _fuseOptions(): string })._fuseOptions.call(this)
      return base === '' ? `-o${extra}` : `${base},${extra}`
    }
  }
  // The handlers read the caller from the instance they are handed to: made just below.
  const box: { fuse?: IvyMount } = {}
  const fuseOps = toFuseOperations(ops, { logger, timeoutMs: handlerTimeout(init) }, () =>
    box.fuse === undefined ? null : box.fuse.context()
  )
  const mounted = new IvyMount(target, fuseOps, {
    timeout: FUSE_TIMEOUT_MS,
    defaultPermissions: true,
    allowOther: init.allowOther ?? process.getuid?.() === 0,
    fsname: init.fsName ?? 'ivyfs',
    subtype: 'ivyfs',
    attrTimeout: init.attrTimeoutSeconds ?? ATTR_TIMEOUT_SECONDS,
    entryTimeout: init.entryTimeoutSeconds ?? ENTRY_TIMEOUT_SECONDS,
    maxConcurrency: init.maxConcurrency ?? maxConcurrencyFromEnvironment() ?? MAX_CONCURRENCY,
    ...(init.debug === true ? { debug: true } : {})
  })
  box.fuse = mounted
  // fuse-napi holds no reference on the event loop: a process whose only work is serving the
  // mount would exit under it. This timer keeps the loop alive until unmount.
  const keepAlive = setInterval(() => {}, KEEP_ALIVE_INTERVAL_MS)
  try {
    await mountWithTimeout(mounted, target)
  } catch (err) {
    clearInterval(keepAlive)
    throw err
  }
  const options = mounted._fuseOptions()
  // scripts/build-fuse-napi.mjs adds invalidatePath and use_ino together (one patched source):
  // invalidatePath drops the inode's attributes and pages; without it, invalidateEntry works only
  // for names in the root (it finds parents by st_ino).
  const patched = mounted as unknown as Partial<PathInvalidation>
  const built = typeof patched.invalidatePath === 'function'
  logger.info(`mounted ${target}`, { options, maxConcurrency: mounted.maxConcurrency, useIno: built })
  if (!built) logger.warn(UNPATCHED)
  const invalidate: InvalidateEntry = built
    ? (path, cb) => (patched as PathInvalidation).invalidatePath(path, cb)
    : (path, cb) => mounted.invalidateEntry(path, cb)
  const invalidator = new EntryInvalidator(invalidate, logger)

  let unmounting: Promise<void> | undefined
  return {
    mountPoint: target,
    options,
    invalidate: (paths) => invalidator.add(paths),
    unmount: () =>
      (unmounting ??= (async () => {
        invalidator.close()
        try {
          await unmountFuse(mounted, target, logger)
        } finally {
          clearInterval(keepAlive)
        }
      })())
  }
}

/**
 * IVYFS_FUSE_MAX_CONCURRENCY overrides the worker count of every mount in this process (the
 * benchmarks compare 1, 4 and 16 with it); anything but an integer in 1..64 is refused.
 */
function maxConcurrencyFromEnvironment(): number | undefined {
  const text = process.env['IVYFS_FUSE_MAX_CONCURRENCY']
  if (text === undefined || text === '') return undefined
  const value = Number(text)
  if (!Number.isInteger(value) || value < 1 || value > 64)
    throw new FuseError('IVYFS_FUSE_MAX_CONCURRENCY must be an integer from 1 to 64', { value: text })
  return value
}

function handlerTimeout(init: MountInit): number {
  const timeoutMs = init.handlerTimeoutMs ?? HANDLER_TIMEOUT_MS
  if (!(timeoutMs > 0 && timeoutMs < FUSE_TIMEOUT_MS)) {
    throw new FuseError(`handlerTimeoutMs must be between 0 and ${FUSE_TIMEOUT_MS}`, { timeoutMs })
  }
  return timeoutMs
}

interface Mountable {
  mount(cb: (err?: Error | null) => void): void
  unmount(cb: (err: Error | null) => void): void
}

function mountWithTimeout(fuse: Mountable, target: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      reject(new MountFailedError(target, `the kernel did not start the mount within ${MOUNT_TIMEOUT_MS} ms`))
      fuse.unmount(() => {})
    }, MOUNT_TIMEOUT_MS)
    fuse.mount((err) => {
      clearTimeout(timer)
      if (err === null || err === undefined) resolvePromise()
      else reject(new MountFailedError(target, err.message))
    })
  })
}

async function unmountFuse(fuse: Mountable, target: string, logger: Logger): Promise<void> {
  const failure = await new Promise<Error | null>((resolvePromise) => fuse.unmount(resolvePromise))
  if (failure !== null) {
    // Already gone (unmounted by hand, or the kernel dropped it) is not a failure.
    if ((await findMount(target)) !== undefined) throw new UnmountFailedError(target, failure.message)
    logger.warn(`${target} was already unmounted`, { detail: failure.message })
  }
  logger.info(`unmounted ${target}`)
}
