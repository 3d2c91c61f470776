/**
 * @ivyfs/fuse: the FUSE mount of an ivyfs filesystem (docs/ARCHITECTURE.md), through fuse-napi
 * on libfuse 3.
 *
 * - mountFilesystem(fs, mountPoint, init) mounts an @ivyfs/fs Filesystem; close-to-open
 *   consistency: writes are buffered per open file and committed as one record on
 *   flush/release/fsync, spilling to the blob store as chunks fill.
 * - mountMemoryFilesystem(mountPoint, init) mounts the in-memory baseline with the same options.
 * - checkFuse() says whether FUSE can be used here (a FuseUnavailableError naming the packages
 *   to install, or null).
 *
 * May import only @ivyfs/fs. fuse-napi is loaded on first mount, so importing this package
 * works on machines without libfuse.
 */
export { mountFilesystem, type FilesystemMountHandle } from './filesystem-mount.js'
export type { FsPort } from './fs-port.js'
export { IvyOperations, inodeNumber } from './handlers.js'
export { checkFuse, type LoadFuseComponents } from './availability.js'
export { mountOperations, extraMountOptions, type MountHandle, type MountInit } from './mount.js'
export { MemoryFilesystem, mountMemoryFilesystem } from './memory-fs.js'
export { forceUnmount } from './mount-point.js'
export { toFuseCode, errnoCode } from './errno.js'
export {
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  RENAME_WHITEOUT,
  type Attributes,
  type Caller,
  type DirectoryEntry,
  type FileTime,
  type MountOperations,
  type VolumeStatistics
} from './operations.js'
export { RememberedPaths } from './remembered-paths.js'
export { silentLogger, type Logger } from './logger.js'
export * from './errors.js'
export * from './constants.js'
