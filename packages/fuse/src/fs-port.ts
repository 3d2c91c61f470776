/**
 * The part of @ivyfs/fs's Filesystem the mount uses. Naming it keeps the dependency visible and
 * lets tests wrap a real Filesystem to inject failures or delays.
 */
import type { Filesystem } from '@ivyfs/fs'

export type FsPort = Pick<
  Filesystem,
  | 'getattr'
  | 'getattrIno'
  | 'handle'
  | 'readdir'
  | 'readInoInto'
  | 'readlink'
  | 'create'
  | 'mkdir'
  | 'symlink'
  | 'mknod'
  | 'link'
  | 'unlink'
  | 'rmdir'
  | 'rename'
  | 'setattr'
  | 'putBlob'
  | 'commit'
  | 'sync'
  | 'statfs'
  | 'conflicts'
  | 'log'
  | 'subscribe'
>
