/**
 * Operating errors of the log package: one class per failure, each with a literal `name`, a
 * default message and `data` for logs and tests. Callers match on the class or `name`, never on
 * the message. Programmer errors are assertions (node:assert/strict), not these.
 */

export class LogError extends Error {
  override name = 'LogError'
  constructor(
    message: string,
    readonly data: Readonly<Record<string, unknown>> = {}
  ) {
    super(message)
  }
}

/** Base of every reason a record's bytes are refused; the store is unchanged when one is thrown. */
export class RecordError extends LogError {
  override name = 'RecordError'
}

export class RecordTooLargeError extends RecordError {
  override name = 'RecordTooLargeError' as const
  constructor(bytes: number, max: number) {
    super(`record of ${bytes} bytes exceeds the limit of ${max}`, { bytes, max })
  }
}

export class TruncatedRecordError extends RecordError {
  override name = 'TruncatedRecordError' as const
  constructor(detail: string) {
    super('record bytes end before the encoding does', { detail })
  }
}

export class MalformedRecordError extends RecordError {
  override name = 'MalformedRecordError' as const
  constructor(field: string, detail: string) {
    super(`malformed record: ${field}: ${detail}`, { field, detail })
  }
}

export class NonCanonicalRecordError extends RecordError {
  override name = 'NonCanonicalRecordError' as const
  constructor(part: string) {
    super(`record ${part} is not in canonical encoding`, { part })
  }
}

export class UnsupportedFormatVersionError extends RecordError {
  override name = 'UnsupportedFormatVersionError' as const
  constructor(version: unknown, supported: number) {
    super(`record format version ${String(version)} is not supported`, { version, supported })
  }
}

export class UnknownOpTypeError extends RecordError {
  override name = 'UnknownOpTypeError' as const
  constructor(tag: unknown, index: number) {
    super(`unknown op type ${String(tag)}`, { tag, index })
  }
}

export class InvalidOpError extends RecordError {
  override name = 'InvalidOpError' as const
  constructor(op: string, detail: string) {
    super(`invalid ${op} op: ${detail}`, { op, detail })
  }
}

export class LimitExceededError extends RecordError {
  override name = 'LimitExceededError' as const
  constructor(limit: string, value: number, max: number) {
    super(`${limit} exceeded: ${value} > ${max}`, { limit, value, max })
  }
}

export class InvalidVersionVectorError extends RecordError {
  override name = 'InvalidVersionVectorError' as const
  constructor(detail: string, data: Record<string, unknown> = {}) {
    super(`invalid version vector: ${detail}`, { detail, ...data })
  }
}

export class InvalidSignatureError extends RecordError {
  override name = 'InvalidSignatureError' as const
  constructor(author: string) {
    super('record signature does not verify with its author key', { author })
  }
}

export class InvalidGenesisError extends RecordError {
  override name = 'InvalidGenesisError' as const
  constructor(detail: string) {
    super(`invalid genesis: ${detail}`, { detail })
  }
}

export class WrongFsIdError extends RecordError {
  override name = 'WrongFsIdError' as const
  constructor(expected: string, actual: string) {
    super('record belongs to another filesystem', { expected, actual })
  }
}

export class NotMemberError extends RecordError {
  override name = 'NotMemberError' as const
  constructor(author: string, seq: number) {
    super('record author is not a member of this filesystem', { author, seq })
  }
}

export class SeqGapError extends RecordError {
  override name = 'SeqGapError' as const
  constructor(author: string, seq: number, expected: number) {
    super(`record seq ${seq} leaves a gap: next expected is ${expected}`, { author, seq, expected })
  }
}

export class PrevMismatchError extends RecordError {
  override name = 'PrevMismatchError' as const
  constructor(author: string, seq: number) {
    super("record prev is not the id of its author's previous record", { author, seq })
  }
}

export class MissingDependencyError extends RecordError {
  override name = 'MissingDependencyError' as const
  constructor(author: string, seq: number, dependency: string, dependencySeq: number) {
    super('record depends on a record this store does not hold', {
      author,
      seq,
      dependency,
      dependencySeq
    })
  }
}

export class StoreClosedError extends LogError {
  override name = 'StoreClosedError' as const
  constructor() {
    super('log store is closed')
  }
}

export class StoreMismatchError extends LogError {
  override name = 'StoreMismatchError' as const
  constructor(path: string, detail: string) {
    super(`log store at ${path} does not match: ${detail}`, { path, detail })
  }
}

export class CorruptStoreError extends LogError {
  override name = 'CorruptStoreError' as const
  constructor(detail: string, data: Record<string, unknown> = {}) {
    super(`log store is corrupt: ${detail}`, { detail, ...data })
  }
}

export class KeyFileNotFoundError extends LogError {
  override name = 'KeyFileNotFoundError' as const
  constructor(path: string) {
    super(`no key file at ${path}`, { path })
  }
}

export class KeyFilePermissionsError extends LogError {
  override name = 'KeyFilePermissionsError' as const
  constructor(path: string, mode: number) {
    super(`key file ${path} is readable by others (mode ${mode.toString(8)}); chmod 600 it`, { path, mode })
  }
}

export class InvalidKeyFileError extends LogError {
  override name = 'InvalidKeyFileError' as const
  constructor(path: string, detail: string) {
    super(`key file ${path} is not valid: ${detail}`, { path, detail })
  }
}

export class BlobMissingError extends LogError {
  override name = 'BlobMissingError' as const
  constructor(id: string) {
    super(`blob ${id} is not held`, { id })
  }
}

export class CorruptBlobError extends LogError {
  override name = 'CorruptBlobError' as const
  constructor(id: string, detail: string) {
    super(`blob ${id} is corrupt: ${detail}`, { id, detail })
  }
}

export class BlobTooLargeError extends LogError {
  override name = 'BlobTooLargeError' as const
  constructor(bytes: number, max: number) {
    super(`blob of ${bytes} bytes exceeds the limit of ${max}`, { bytes, max })
  }
}

export class StoreLockedError extends LogError {
  override name = 'StoreLockedError' as const
  constructor(path: string) {
    super(`log store at ${path} is open in another process`, { path })
  }
}

/**
 * The index (LevelDB) could not be written. `code` is the errno when the disk refused the write
 * (ENOSPC, EDQUOT, EFBIG, EROFS; LevelDB itself names it only in its message), so that a full
 * disk reaches the writer as ENOSPC; `cause` is LevelDB's error. The packs hold every record
 * acknowledged; only the index lags them, in memory, until LevelDB takes writes again.
 */
export class IndexWriteError extends LogError {
  override name = 'IndexWriteError' as const
  readonly code: string | undefined
  constructor(code: string | undefined, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause)
    super(`the store's index could not be written: ${detail}`, { code, detail })
    this.code = code
    this.cause = cause
  }
}
