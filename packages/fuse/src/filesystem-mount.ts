/** Mounting an @ivyfs/fs Filesystem: the handlers plus the mount, and a commit of every open file at unmount. */
import type { FsPort } from './fs-port.js'
import { IvyOperations } from './handlers.js'
import { silentLogger } from './logger.js'
import { mountOperations, type MountHandle, type MountInit } from './mount.js'

export interface FilesystemMountHandle extends MountHandle {
  /** Bytes written through the mount that are neither committed nor staged in the blob store. */
  bufferedBytes(): number
}

/**
 * Mounts `fs` on `mountPoint` (an existing empty directory). Every change another peer's records
 * make sends the kernel invalidations for the paths it had looked up for the changed inodes (and
 * a change of our own, for the other names of a hard-linked file), so the attribute timeout can be
 * long without stale attributes or data. Unmounting commits what open
 * files still hold (their releases will not come once the kernel has let go of the mount).
 */
export async function mountFilesystem(
  fs: FsPort,
  mountPoint: string,
  init: MountInit = {}
): Promise<FilesystemMountHandle> {
  const operations = new IvyOperations(fs, init.logger ?? silentLogger)
  const handle = await mountOperations(operations, mountPoint, init)
  const { paths } = operations
  operations.invalidate = (stale) => handle.invalidate(stale)
  const unsubscribe = fs.subscribe((change) =>
    // The kernel saw this mount's own changes happen, except through the other names of a file.
    handle.invalidate(change.local ? paths.linkedPathsOf(change.inos) : paths.pathsOf(change.inos))
  )
  let unmounting: Promise<void> | undefined
  return {
    mountPoint: handle.mountPoint,
    options: handle.options,
    invalidate: (paths) => handle.invalidate(paths),
    bufferedBytes: () => operations.openFiles.bufferedBytes,
    unmount: () =>
      (unmounting ??= (async () => {
        unsubscribe()
        operations.invalidate = () => {}
        await handle.unmount()
        await operations.openFiles.commitAll()
      })())
  }
}
