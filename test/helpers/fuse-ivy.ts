/**
 * An ivyfs filesystem mounted for a test: a real Filesystem on LevelDB in a fresh temp dir,
 * mounted on an empty directory beside it. The vitest process serves the mount; tests touch it
 * only through child processes (sh, shOk).
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Filesystem } from '@ivyfs/fs'
import {
  mountFilesystem,
  type FilesystemMountHandle,
  type FsPort,
  type Logger,
  type MountInit
} from '@ivyfs/fuse'
import { KeyPair } from '@ivyfs/log'
import { cleanUnmount, recordingLogger, tempDir } from './fuse-env.js'

export interface MountedIvy {
  /** The mount point. */
  mnt: string
  /** A scratch directory outside the mount (for reference copies). */
  scratch: string
  fs: Filesystem
  handle: FilesystemMountHandle
  logger: Logger & { errors: string[]; warnings: string[] }
  /** Records in this participant's log so far. */
  records(): number
  cleanup(): Promise<void>
}

export async function mountIvy(
  init: MountInit & { wrap?: (fs: Filesystem) => FsPort } = {}
): Promise<MountedIvy> {
  const dir = await tempDir('fuse')
  const mnt = join(dir.path, 'mnt')
  const scratch = join(dir.path, 'scratch')
  await mkdir(mnt)
  await mkdir(scratch)
  const keys = KeyPair.generate()
  const logger = recordingLogger()
  let fs: Filesystem | undefined
  let handle: FilesystemMountHandle
  try {
    fs = await Filesystem.create({ path: join(dir.path, 'data'), keys })
    handle = await mountFilesystem(init.wrap?.(fs) ?? fs, mnt, { logger, ...init })
  } catch (err) {
    await fs?.close()
    await dir.remove()
    throw err
  }
  const opened = fs
  const mounted = handle
  return {
    mnt,
    scratch,
    fs: opened,
    handle: mounted,
    logger,
    records: () => opened.log.length(keys.publicKey),
    cleanup: async () => {
      try {
        await cleanUnmount(mnt, mounted.unmount)
        await opened.close()
      } finally {
        await dir.remove()
      }
    }
  }
}
