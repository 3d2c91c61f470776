/**
 * Mounts any MountOperations with fuse-native: the mount options ivyfs needs (which fuse-native's
 * options object cannot express), typed errors for every way mounting or unmounting fails, stale
 * mount cleanup beforehand, and a time bound on every handler.
 */
import { resolve } from 'node:path'
import {
  ATTR_TIMEOUT_SECONDS,
  ENTRY_TIMEOUT_SECONDS,
  FUSE_NATIVE_TIMEOUT_MS,
  HANDLER_TIMEOUT_MS,
  MAX_WRITE_BYTES,
  NEGATIVE_TIMEOUT_SECONDS
} from './constants.js'
import { FuseError, MountFailedError, UnmountFailedError } from './errors.js'
import type { LoadFuseComponents } from './availability.js'
import { fuseNativeHasMtimeSlot, loadFuse } from './loader.js'
import { silentLogger, type Logger } from './logger.js'
import { findMount, prepareMountPoint } from './mount-point.js'
import { toFuseOperations } from './fuse-adapter.js'
import type { MountOperations } from './operations.js'

/** A live FUSE server answers init quickly; no answer in this long means the mount failed. */
const MOUNT_TIMEOUT_MS = 10_000

export interface MountInit {
  logger?: Logger
  /** Kernel attribute cache lifetime; see constants.ts for why the default is short. */
  attrTimeoutSeconds?: number
  /** Kernel name-lookup cache lifetime. */
  entryTimeoutSeconds?: number
  /** Bound on every handler (must stay below fuse-native's 15 s). */
  handlerTimeoutMs?: number
  /** Let other users into the mount; default: when running as root (as the daemon does). */
  allowOther?: boolean
  /** Shown as the source in the mount table (`ivyfs` by default). */
  fsName?: string
  /** libfuse debug output on stderr. */
  debug?: boolean
  /** Where to look for FUSE (tests inject failures). */
  loader?: LoadFuseComponents
}

export interface MountHandle {
  /** Absolute path of the mount. */
  readonly mountPoint: string
  /** The -o options the mount was made with (for logs and tests). */
  readonly options: string
  /** Unmounts (lazily, as fusermount -uz does); safe to call twice. */
  unmount(): Promise<void>
}

/**
 * Options added to fuse-native's own. big_writes + max_write: 128 KiB writes instead of 4 KiB
 * pages. use_ino: st_ino comes from the filesystem, so hard links share one number.
 * atomic_o_trunc: O_TRUNC reaches open (instead of a separate truncate), so the truncate and the
 * new content are one record. The three
 * timeouts: see constants.ts. No kernel_cache/auto_cache: every open drops cached pages, which
 * is what close-to-open consistency with other peers needs.
 */
export function extraMountOptions(init: MountInit = {}): string[] {
  return [
    'big_writes',
    `max_write=${MAX_WRITE_BYTES}`,
    'use_ino',
    'atomic_o_trunc',
    `attr_timeout=${init.attrTimeoutSeconds ?? ATTR_TIMEOUT_SECONDS}`,
    `entry_timeout=${init.entryTimeoutSeconds ?? ENTRY_TIMEOUT_SECONDS}`,
    `negative_timeout=${NEGATIVE_TIMEOUT_SECONDS}`,
    'subtype=ivyfs'
  ]
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

  const extra = extraMountOptions(init).join(',')
  class IvyMount extends Fuse {
    override _fuseOptions(): string {
      const base = super._fuseOptions()
      return base === '' ? `-o${extra}` : `${base},${extra}`
    }
  }
  const mtimeSlot = init.loader?.require === undefined && fuseNativeHasMtimeSlot()
  const fuseOps = toFuseOperations(ops, { logger, timeoutMs: handlerTimeout(init) }, { mtimeSlot })
  const fuse = new IvyMount(target, fuseOps, {
    timeout: FUSE_NATIVE_TIMEOUT_MS,
    defaultPermissions: true,
    allowOther: init.allowOther ?? process.getuid?.() === 0,
    fsname: init.fsName ?? 'ivyfs',
    ...(init.debug === true ? { debug: true } : {})
  })
  await mountWithTimeout(fuse, target)
  logger.info(`mounted ${target}`, { options: fuse._fuseOptions(), utimensMtime: mtimeSlot })

  let unmounting: Promise<void> | undefined
  return {
    mountPoint: target,
    options: fuse._fuseOptions(),
    unmount: () => (unmounting ??= unmountFuse(fuse, target, logger))
  }
}

function handlerTimeout(init: MountInit): number {
  const timeoutMs = init.handlerTimeoutMs ?? HANDLER_TIMEOUT_MS
  if (!(timeoutMs > 0 && timeoutMs < FUSE_NATIVE_TIMEOUT_MS)) {
    throw new FuseError(`handlerTimeoutMs must be between 0 and ${FUSE_NATIVE_TIMEOUT_MS}`, { timeoutMs })
  }
  return timeoutMs
}

interface Mountable {
  mount(cb: (err: Error | null) => void): void
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
      if (err === null) resolvePromise()
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
