import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { fuseMissing, sh, shOk } from '../helpers/fuse-env.js'
import { mountIvy, type MountedIvy } from '../helpers/fuse-ivy.js'

/** A small source tree with nesting, an empty dir, a symlink, a hard link and odd modes. */
const MAKE_TREE = [
  'mkdir -p src/tree/a/b/c src/tree/empty src/tree/bin',
  'for i in 1 2 3 4 5 6 7 8; do seq 1 $((i * 500)) > src/tree/a/file$i.txt; done',
  'head -c 300000 /dev/urandom > src/tree/a/b/random.bin',
  'printf "#!/bin/sh\\necho hi\\n" > src/tree/bin/run.sh && chmod 755 src/tree/bin/run.sh',
  'echo secret > src/tree/a/b/c/private && chmod 600 src/tree/a/b/c/private',
  'ln -s ../a/file1.txt src/tree/bin/link && ln src/tree/a/file2.txt src/tree/a/hard2.txt',
  'touch -d "2020-05-06 07:08:09" src/tree/a/file3.txt'
].join(' && ')

describe.skipIf(fuseMissing())('everyday tools on the ivyfs mount', () => {
  let ivy: MountedIvy

  beforeEach(async () => {
    ivy = await mountIvy()
    await shOk(MAKE_TREE, ivy.scratch)
  })

  afterEach(async () => {
    await ivy.cleanup()
    expect(ivy.logger.errors).toEqual([])
  })

  test('cp -a of a tree, then diff -r finds no difference', async () => {
    // Goal: a recursive copy preserves contents, modes, symlinks and structure.
    await shOk(`cp -a "${ivy.scratch}/src/tree" copy`, ivy.mnt)
    await shOk(`diff -r "${ivy.scratch}/src/tree" copy`, ivy.mnt)
    const modes = await shOk(
      'stat -c "%a %n" copy/bin/run.sh copy/a/b/c/private && readlink copy/bin/link',
      ivy.mnt
    )
    expect(modes).toBe('755 copy/bin/run.sh\n600 copy/a/b/c/private\n../a/file1.txt\n')
    const mtime = await shOk('date -u -r copy/a/file3.txt +%F', ivy.mnt)
    expect(mtime).toBe('2020-05-06\n')
  })

  test('tar extracts into the mount and re-creates the same archive content', async () => {
    // Goal: tar's create/extract path (hard links, symlinks, modes) round-trips through ivyfs.
    await shOk('tar -C src -cf tree.tar tree', ivy.scratch)
    await shOk(`tar -xf "${ivy.scratch}/tree.tar" && tar -cf "${ivy.scratch}/again.tar" tree`, ivy.mnt)
    await shOk('mkdir again && tar -C again -xf again.tar && diff -r src/tree again/tree', ivy.scratch)
    const listing = await shOk('tar -tvf again.tar | grep -c "link to"', ivy.scratch)
    expect(Number(listing)).toBe(1)
  })

  test('git init, add, commit, then a clean status', async () => {
    // Goal: git's lock files, renames over the index, fsyncs and stat cache all work.
    const git = 'git -c user.name=t -c user.email=t@example.com -c init.defaultBranch=main'
    await shOk(`cp -a "${ivy.scratch}/src/tree" repo`, ivy.mnt)
    await shOk(`cd repo && ${git} init -q && ${git} add -A && ${git} commit -q -m first`, ivy.mnt)
    expect(await shOk('cd repo && git status --porcelain', ivy.mnt)).toBe('')
    await shOk(`cd repo && echo change >> a/file1.txt && ${git} commit -q -am second`, ivy.mnt)
    expect(await shOk('cd repo && git status --porcelain && git log --oneline | wc -l', ivy.mnt)).toBe('2\n')
    await shOk('cd repo && git fsck --no-progress 2>&1', ivy.mnt)
  })

  test('an mkdir lock loop: every holder is alone in its critical section', async () => {
    // Goal: mkdir is the exclusive create, so concurrent lockers never overlap.
    const locker = (id: number): string =>
      `for i in $(seq 1 15); do n=0; until mkdir lock 2>/dev/null; do ` +
      `n=$((n + 1)); [ $n -lt 5000 ] || { echo STARVED; exit 3; }; done; ` +
      `if [ -e inside ]; then echo OVERLAP; fi; echo ${id} > inside; echo ${id} >> log; ` +
      `rm inside; rmdir lock; done`
    const results = await Promise.all([1, 2, 3].map((id) => sh(locker(id), ivy.mnt, 60_000)))
    for (const result of results) expect(result.code).toBe(0)
    expect(results.map((r) => r.stdout).join('')).not.toContain('OVERLAP')
    expect((await shOk('wc -l < log', ivy.mnt)).trim()).toBe('45')
  })

  test('dotlockfile takes and releases a lock file', async () => {
    // Goal: a real lock tool built on O_EXCL-style creation works on the mount.
    await shOk(
      'dotlockfile -r 0 -l my.lock && ! dotlockfile -r 0 -l my.lock && dotlockfile -u my.lock',
      ivy.mnt
    )
    expect(await shOk('ls', ivy.mnt)).toBe('')
  })
})
