import { createRequire } from 'node:module'
import { describe, expect, test } from 'vitest'
import { InvalidError, NotEmptyError, NotFoundError } from '@ivyfs/fs'
import { ErrnoError, errnoCode, toFuseCode } from '@ivyfs/fuse'
import { fuseMissing, recordingLogger } from '../../../test/helpers/fuse-env.js'

/** Looks like an fs error but is not one: only FsError and ErrnoError are trusted. */
class LookAlike extends Error {
  readonly errno = 'ENOENT'
}

describe('errno mapping', () => {
  test('an error carrying an errno name maps to the negative Linux errno', () => {
    // Goal: fs errors reach the kernel as the errno they name, without being logged.
    const logger = recordingLogger()
    expect(toFuseCode(new NotFoundError('/x'), logger, 'getattr /x')).toBe(-2)
    expect(toFuseCode(new NotEmptyError('/x'), logger, 'rmdir /x')).toBe(-39)
    expect(toFuseCode(new InvalidError('bad'), logger, 'rename /x')).toBe(-22)
    expect(toFuseCode(new ErrnoError('EROFS', 'read-only'), logger, 'write /.ivy')).toBe(-30)
    expect(logger.errors).toEqual([])
  })

  test('anything unexpected is EIO and logged', () => {
    // Goal: a bug never reaches the kernel as a success or an arbitrary code, and is never silent.
    const logger = recordingLogger()
    expect(toFuseCode(new TypeError('bug'), logger, 'read /x')).toBe(-5)
    expect(toFuseCode(new LookAlike(), logger, 'read /x')).toBe(-5)
    expect(toFuseCode(new ErrnoError('ENOTANERRNO', 'made up'), logger, 'read /x')).toBe(-5)
    expect(toFuseCode(Object.assign(new Error('node'), { errno: -2, code: 'ENOENT' }), logger, 'x')).toBe(-5)
    expect(logger.errors).toHaveLength(4)
  })

  test.skipIf(fuseMissing())('the codes are fuse-napi’s own', () => {
    // Goal: taking codes from node:os instead of the addon changes nothing.
    const Fuse = createRequire(import.meta.url)('fuse-napi') as Record<string, number>
    for (const name of ['EPERM', 'ENOENT', 'EIO', 'EAGAIN', 'EEXIST', 'ENOTDIR', 'EISDIR', 'EINVAL']) {
      expect(errnoCode(name)).toBe(Fuse[name])
    }
    for (const name of [
      'ENOTEMPTY',
      'EROFS',
      'ENAMETOOLONG',
      'EFBIG',
      'EMLINK',
      'EBADF',
      'ELOOP',
      'ENOSYS'
    ]) {
      expect(errnoCode(name)).toBe(Fuse[name])
    }
  })
})

describe('storage failures from the log', () => {
  test('a full disk reaches the kernel as ENOSPC, also when wrapped', () => {
    // Goal: `dd` on a full disk says "No space left on device", not "Input/output error".
    const logged: unknown[] = []
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (...args: unknown[]) => logged.push(args)
    }
    const full = Object.assign(new Error('write failed'), { code: 'ENOSPC' })
    expect(toFuseCode(full, logger, 'write')).toBe(errnoCode('ENOSPC'))
    expect(toFuseCode(new Error('commit failed', { cause: full }), logger, 'write')).toBe(errnoCode('ENOSPC'))
    expect(toFuseCode(Object.assign(new Error('x'), { code: 'ECONNRESET' }), logger, 'write')).toBe(
      errnoCode('EIO')
    )
    expect(logged).toHaveLength(1)
  })
})
