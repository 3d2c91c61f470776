import { describe, expect, test } from 'vitest'
import { FUSE_INSTALL_COMMAND, FuseUnavailableError, checkFuse, mountMemoryFilesystem } from '@ivyfs/fuse'
import { fuseMissing } from '../../../test/helpers/fuse-env.js'

const libfuseMissing = (): never => {
  throw new Error('libfuse3.so.3: cannot open shared object file: No such file or directory')
}

describe('loading fuse-napi', () => {
  test('a missing libfuse3.so.3 is a FuseUnavailableError naming the packages to install', () => {
    // Goal: the dlopen failure becomes a typed error with the apt-get command, not a stack trace.
    const error = checkFuse({ require: libfuseMissing })
    expect(error).toBeInstanceOf(FuseUnavailableError)
    expect(error?.reason).toBe('libfuse')
    expect(error?.message).toContain(FUSE_INSTALL_COMMAND)
    expect(FUSE_INSTALL_COMMAND).toMatch(/^apt-get install -y fuse3 libfuse3-dev pkg-config/)
  })

  test('an addon that was never built says how to build it', () => {
    // Goal: npm skipping fuse-napi's install script (no prebuild for Node 20) is a clear error.
    const unbuilt = (): never => {
      throw new Error('No native build was found for platform=linux arch=x64 runtime=node abi=115')
    }
    const error = checkFuse({ require: unbuilt })
    expect(error?.reason).toBe('addon')
    expect(error?.message).toContain('scripts/install.sh')
  })

  test('a missing /dev/fuse is a FuseUnavailableError', () => {
    // Goal: a container without the device says so before libfuse fails obscurely.
    expect(checkFuse({ devicePath: '/nonexistent/fuse' })?.reason).toBe('device')
  })

  test('a missing fusermount3 is a FuseUnavailableError', () => {
    // Goal: unmounting shells out to fusermount3, so its absence is caught before mounting.
    expect(checkFuse({ searchPath: '/nonexistent' })?.reason).toBe('fusermount')
  })

  test('mounting without FUSE rejects with the typed error', async () => {
    // Goal: the mount entry point surfaces the same error (the daemon prints its message).
    await expect(
      mountMemoryFilesystem('/tmp', { loader: { require: libfuseMissing } })
    ).rejects.toBeInstanceOf(FuseUnavailableError)
  })

  test.skipIf(fuseMissing())('finds FUSE on this machine', () => {
    // Goal: with libfuse 3, fusermount3 and /dev/fuse present, nothing is reported missing.
    expect(checkFuse()).toBeNull()
  })
})
