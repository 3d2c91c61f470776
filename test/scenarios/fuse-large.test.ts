import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { fuseMissing, shOk } from '../helpers/fuse-env.js'
import { mountIvy, type MountedIvy } from '../helpers/fuse-ivy.js'

const MIB = 1024 * 1024
/** Big enough that holding the file in memory would show: twice the allowed RSS growth. */
const FILE_MIB = 256
const RSS_GROWTH_MAX = 128 * MIB

describe.skipIf(fuseMissing())('large files through the ivyfs mount', () => {
  let ivy: MountedIvy

  beforeEach(async () => {
    ivy = await mountIvy()
  })

  afterEach(async () => {
    await ivy.cleanup()
    expect(ivy.logger.errors).toEqual([])
  })

  test(`a ${FILE_MIB} MiB file written with dd keeps the serving process's memory bounded`, async () => {
    // Goal: written data goes to the blob store as segments fill, so RSS stays flat however
    // large the file, and the whole close is still one record with the right bytes.
    await shOk(`seq 1 100000000 | head -c ${FILE_MIB * MIB} > ref`, ivy.scratch)
    const baseline = process.memoryUsage().rss
    let peak = baseline
    let peakBuffered = 0
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss)
      peakBuffered = Math.max(peakBuffered, ivy.handle.bufferedBytes())
    }, 20)
    const before = ivy.records()
    try {
      await shOk(`dd if="${ivy.scratch}/ref" of=big bs=128k conv=fsync status=none`, ivy.mnt, 120_000)
    } finally {
      clearInterval(sampler)
    }
    expect(peak - baseline).toBeLessThan(RSS_GROWTH_MAX)
    expect(peakBuffered).toBeLessThanOrEqual(8 * MIB)
    expect(ivy.records() - before).toBe(2) // the create, then the whole content
    await shOk(
      `cmp "${ivy.scratch}/ref" big && [ "$(stat -c %s big)" = ${FILE_MIB * MIB} ]`,
      ivy.mnt,
      120_000
    )
  })

  test('random writes into a large file while it is open read back correctly', async () => {
    // Goal: reads of an open file see its own unstaged and staged writes on top of the old content.
    await shOk(`head -c ${16 * MIB} /dev/urandom > ref && cp ref expected`, ivy.scratch)
    await shOk(`cp "${ivy.scratch}/ref" f`, ivy.mnt)
    const patch = (offset: number, file: string): string =>
      `printf PATCH${offset} | dd of=${file} bs=1 seek=${offset} conv=notrunc status=none`
    const offsets = [0, 65_535, 4 * MIB - 3, 9 * MIB, 16 * MIB + 100]
    await shOk(offsets.map((offset) => patch(offset, 'expected')).join(' && '), ivy.scratch)
    // One open descriptor (fd 3) for all patches and the reads: nothing is committed in between.
    const script =
      'exec 3<>f && ' +
      offsets
        .map((o) => `printf PATCH${o} | dd of=/dev/fd/3 bs=1 seek=${o} conv=notrunc status=none`)
        .join(' && ') +
      ` && cmp /dev/fd/3 "${ivy.scratch}/expected" && echo same`
    expect(await shOk(script, ivy.mnt, 60_000)).toBe('same\n')
    await shOk(`cmp f "${ivy.scratch}/expected"`, ivy.mnt, 60_000)
  })
})
