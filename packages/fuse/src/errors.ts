/**
 * Operating errors of the fuse package: one class per failure, each with a literal `name`, a
 * default message and `data`. Callers (the daemon, the CLI) match on the class or `name`.
 */

/**
 * Debian/Ubuntu packages the mount needs: libfuse 3 and fusermount3 at run time, its headers,
 * pkg-config and a compiler to build fuse-napi's addon (no prebuild for Node 20's ABI).
 */
export const FUSE_INSTALL_COMMAND = 'apt-get install -y fuse3 libfuse3-dev pkg-config g++ make python3'

export class FuseError extends Error {
  override name = 'FuseError'
  constructor(
    message: string,
    readonly data: Readonly<Record<string, unknown>> = {}
  ) {
    super(message)
  }
}

/** libfuse 3, the fuse-napi addon or /dev/fuse is missing: nothing can be mounted here. */
export class FuseUnavailableError extends FuseError {
  override name = 'FuseUnavailableError' as const
  readonly installCommand = FUSE_INSTALL_COMMAND
  constructor(
    readonly reason: 'libfuse' | 'device' | 'fusermount' | 'addon',
    detail: string
  ) {
    super(`FUSE is not available (${detail}); install it with: ${FUSE_INSTALL_COMMAND}`, {
      reason,
      detail,
      installCommand: FUSE_INSTALL_COMMAND
    })
  }
}

export class MountPointMissingError extends FuseError {
  override name = 'MountPointMissingError' as const
  constructor(mountPoint: string) {
    super(`mount point does not exist: ${mountPoint}`, { mountPoint })
  }
}

export class MountPointNotDirectoryError extends FuseError {
  override name = 'MountPointNotDirectoryError' as const
  constructor(mountPoint: string) {
    super(`mount point is not a directory: ${mountPoint}`, { mountPoint })
  }
}

export class MountPointNotEmptyError extends FuseError {
  override name = 'MountPointNotEmptyError' as const
  constructor(mountPoint: string) {
    super(`mount point is not empty: ${mountPoint}`, { mountPoint })
  }
}

/** Something live is already mounted there (a stale mount of a dead process is cleaned instead). */
export class MountPointBusyError extends FuseError {
  override name = 'MountPointBusyError' as const
  constructor(mountPoint: string, fsType: string) {
    super(`mount point is busy: ${fsType} is mounted on ${mountPoint}`, { mountPoint, fsType })
  }
}

/** A stale FUSE mount was found and could not be released. */
export class StaleMountError extends FuseError {
  override name = 'StaleMountError' as const
  constructor(mountPoint: string, detail: string) {
    super(`could not release the stale mount on ${mountPoint}: ${detail}`, { mountPoint, detail })
  }
}

export class MountFailedError extends FuseError {
  override name = 'MountFailedError' as const
  constructor(mountPoint: string, detail: string) {
    super(`mounting ${mountPoint} failed: ${detail}`, { mountPoint, detail })
  }
}

export class UnmountFailedError extends FuseError {
  override name = 'UnmountFailedError' as const
  constructor(mountPoint: string, detail: string) {
    super(`unmounting ${mountPoint} failed: ${detail}`, { mountPoint, detail })
  }
}

/** A handler did not finish within HANDLER_TIMEOUT_MS; the kernel got EIO or EAGAIN instead. */
export class HandlerTimeoutError extends FuseError {
  override name = 'HandlerTimeoutError' as const
  constructor(op: string, path: string, timeoutMs: number) {
    super(`${op} ${path} did not finish within ${timeoutMs} ms`, { op, path, timeoutMs })
  }
}

/**
 * A failure the fuse package itself detects and answers with a specific errno (a write under the
 * read-only /.ivy/ directory is EROFS, an unknown handle EBADF, an unsupported mknod EPERM).
 */
export class ErrnoError extends FuseError {
  override name = 'ErrnoError' as const
  constructor(
    readonly errno: string,
    message: string,
    data: Readonly<Record<string, unknown>> = {}
  ) {
    super(message, { ...data, errno })
  }
}
