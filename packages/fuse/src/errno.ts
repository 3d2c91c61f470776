/**
 * The one place that turns an error into the code a FUSE callback returns. Filesystem errors
 * carry an errno name (FsError.errno); errors this package raises itself carry one too
 * (ErrnoError). Anything else is unexpected: it is logged and the kernel gets EIO.
 * Codes are Linux's, negated, which is exactly fuse-native's table (Fuse.ENOENT === -2 ...):
 * taking them from node:os keeps this module free of the native addon.
 */
import { FsError } from '@ivyfs/fs'
import { constants } from 'node:os'
import { ErrnoError } from './errors.js'
import type { Logger } from './logger.js'

const ERRNO: Readonly<Record<string, number>> = constants.errno

/** -EIO: what the kernel gets for anything this module does not recognise. */
export const EIO = -ERRNO['EIO']!

/** The negative errno for a name such as 'ENOENT', or undefined when Linux has no such errno. */
export function errnoCode(name: string): number | undefined {
  const value = ERRNO[name]
  return value === undefined ? undefined : -value
}

/** Maps a handler's failure to a FUSE result code; unknown failures are logged and become EIO. */
export function toFuseCode(err: unknown, logger: Logger, context: string): number {
  const name = errnoNameOf(err)
  if (name !== undefined) {
    const code = errnoCode(name)
    if (code !== undefined) return code
    logger.error(`${context}: unknown errno ${name}, returning EIO`, err)
    return EIO
  }
  logger.error(`${context}: unexpected error, returning EIO`, err)
  return EIO
}

/**
 * Storage failures the kernel must hear as they are (a full disk is ENOSPC, not EIO), when they
 * surface from the log's own I/O as Node system errors, possibly wrapped as a `cause`.
 */
const STORAGE_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EROFS'])

function errnoNameOf(err: unknown): string | undefined {
  if (err instanceof FsError || err instanceof ErrnoError) return err.errno
  for (let at: unknown = err, depth = 0; at instanceof Error && depth < 4; at = at.cause, depth++) {
    const code = (at as NodeJS.ErrnoException).code
    if (typeof code === 'string' && STORAGE_ERRNOS.has(code)) return code
  }
  return undefined
}
