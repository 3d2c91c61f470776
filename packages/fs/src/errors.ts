/**
 * Typed errors of the fs API. Each carries a POSIX errno name (translated to a FUSE code in one
 * place, packages/fuse) and `data` for logs and the CLI. Tests assert the class or `name`.
 */
export type Errno =
  | 'ENOENT'
  | 'EEXIST'
  | 'ENOTEMPTY'
  | 'ENOTDIR'
  | 'EISDIR'
  | 'EINVAL'
  | 'EAGAIN'
  | 'ENAMETOOLONG'
  | 'EFBIG'
  | 'EMLINK'
  | 'EPERM'
  | 'EBADF'
  | 'EIO'
  | 'ELOOP'

export class FsError extends Error {
  constructor(
    message: string,
    readonly errno: Errno,
    readonly data: object = {}
  ) {
    super(message)
  }
}

export class NotFoundError extends FsError {
  override readonly name = 'NotFoundError'
  constructor(path: string) {
    super(`no such file or directory: ${path}`, 'ENOENT', { path })
  }
}

/** The name exists (also: an exclusive create lost its race). */
export class ExistsError extends FsError {
  override readonly name = 'ExistsError'
  constructor(path: string) {
    super(`already exists: ${path}`, 'EEXIST', { path })
  }
}

export class NotEmptyError extends FsError {
  override readonly name = 'NotEmptyError'
  constructor(path: string) {
    super(`directory not empty: ${path}`, 'ENOTEMPTY', { path })
  }
}

export class NotDirError extends FsError {
  override readonly name = 'NotDirError'
  constructor(path: string) {
    super(`not a directory: ${path}`, 'ENOTDIR', { path })
  }
}

export class IsDirError extends FsError {
  override readonly name = 'IsDirError'
  constructor(path: string) {
    super(`is a directory: ${path}`, 'EISDIR', { path })
  }
}

export class InvalidError extends FsError {
  override readonly name = 'InvalidError'
  constructor(reason: string, data: object = {}) {
    super(`invalid argument: ${reason}`, 'EINVAL', data)
  }
}

/** No majority answered an exclusive create in time, or the lock is contended: retry later. */
export class AgainError extends FsError {
  override readonly name = 'AgainError'
  constructor(reason: string, data: object = {}) {
    super(`try again: ${reason}`, 'EAGAIN', data)
  }
}

export class NameTooLongError extends FsError {
  override readonly name = 'NameTooLongError'
  constructor(name: string) {
    super(`name too long: ${name.slice(0, 64)}…`, 'ENAMETOOLONG', { length: name.length })
  }
}

export class FileTooLargeError extends FsError {
  override readonly name = 'FileTooLargeError'
  constructor(bytes: number) {
    super(`file too large: ${bytes} bytes`, 'EFBIG', { bytes })
  }
}

export class TooManyLinksError extends FsError {
  override readonly name = 'TooManyLinksError'
  constructor(path: string) {
    super(`cannot hard-link a directory: ${path}`, 'EMLINK', { path })
  }
}

export class NotPermittedError extends FsError {
  override readonly name = 'NotPermittedError'
  constructor(reason: string, data: object = {}) {
    super(`operation not permitted: ${reason}`, 'EPERM', data)
  }
}

export class ClosedError extends FsError {
  override readonly name = 'ClosedError'
  constructor() {
    super('filesystem is closed', 'EBADF')
  }
}

export class LoopError extends FsError {
  override readonly name = 'LoopError'
  constructor(path: string) {
    super(`too many levels of symbolic links or a directory below itself: ${path}`, 'ELOOP', { path })
  }
}

/** A conflict id that the view does not know, or one that cannot be resolved as asked. */
export class ConflictNotFoundError extends FsError {
  override readonly name = 'ConflictNotFoundError'
  constructor(id: string) {
    super(`no such conflict: ${id}`, 'ENOENT', { id })
  }
}
