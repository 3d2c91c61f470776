import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { fuseMissing, sh, shOk } from '../helpers/fuse-env.js'
import { mountIvy, type MountedIvy } from '../helpers/fuse-ivy.js'

describe.skipIf(fuseMissing())('files through the ivyfs mount', () => {
  let ivy: MountedIvy

  beforeEach(async () => {
    ivy = await mountIvy()
  })

  afterEach(async () => {
    await ivy.cleanup()
    expect(ivy.logger.errors).toEqual([])
  })

  test('create, write, read, append and overwrite', async () => {
    // Goal: the basic data path works end to end and reads see what was closed.
    const out = await shOk(
      'printf hello > f && cat f && echo && printf " world" >> f && cat f && echo && ' +
        'printf HELLO | dd of=f conv=notrunc status=none && cat f && echo && echo new > f && cat f',
      ivy.mnt
    )
    expect(out).toBe('hello\nhello world\nHELLO world\nnew\n')
    expect(new TextDecoder().decode(await ivy.fs.read('/f', 0, 100))).toBe('new\n')
  })

  test('one record per close, and O_TRUNC with its new content in that same record', async () => {
    // Goal: close-to-open: a file's writes (and the truncate of `>`) land as one record, so
    // another peer sees the old or the new content, never an empty or half-written file.
    await shOk('echo old content > f', ivy.mnt)
    const before = ivy.records()
    await shOk('for i in 1 2 3 4 5; do echo line $i; done > f', ivy.mnt)
    expect(ivy.records() - before).toBe(1)
    const after = ivy.records()
    await shOk('{ echo a; echo b; echo c; } >> f', ivy.mnt)
    expect(ivy.records() - after).toBe(1)
    expect(await shOk('cat f', ivy.mnt)).toBe('line 1\nline 2\nline 3\nline 4\nline 5\na\nb\nc\n')
  })

  test('truncate and ftruncate shrink and extend with zeros', async () => {
    // Goal: sizes and holes are right whether the file is open or not.
    const out = await shOk(
      'printf 0123456789 > f && truncate -s 4 f && cat f && echo && truncate -s 8 f && od -An -c f && ' +
        'printf abcdef > g && exec 3<>g && truncate -s 2 g && cat g && echo && stat -c %s f g',
      ivy.mnt
    )
    expect(out).toBe('0123\n   0   1   2   3  \\0  \\0  \\0  \\0\nab\n8\n2\n')
  })

  test('mkdir -p trees, listings and rmdir', async () => {
    // Goal: directories nest, list sorted entries and count links like POSIX.
    const out = await shOk(
      'mkdir -p a/b/c a/d && touch a/b/c/x a/y && ls a && find a | sort && stat -c %h a && rmdir a/d && ls a',
      ivy.mnt
    )
    expect(out).toBe('b\nd\ny\na\na/b\na/b/c\na/b/c/x\na/d\na/y\n4\nb\ny\n')
  })

  test('rename files and directories, also over existing entries', async () => {
    // Goal: mv within and across directories, replacing files and empty directories.
    const out = await shOk(
      'mkdir d e && echo 1 > d/f && echo 2 > g && mv d/f e/f && mv g e/f && cat e/f && ' +
        'mkdir -p x/sub && mkdir y && mv x y && ls y && mkdir z && mv y/x z && ls z/x && ls d y',
      ivy.mnt
    )
    expect(out).toBe('2\nx\nsub\nd:\n\ny:\n')
    expect((await sh('mkdir -p p/q r/s && touch r/s/t && mv -T p/q r/s', ivy.mnt)).stderr).toMatch(
      /Directory not empty|File exists/
    )
  })

  test('hard links and symlinks', async () => {
    // Goal: a hard link shares content and inode number; symlinks resolve and read back.
    const out = await shOk(
      'echo data > f && ln f h && echo more >> h && cat f && stat -c %h h && ' +
        '[ "$(stat -c %i f)" = "$(stat -c %i h)" ] && echo same-inode && ' +
        'ln -s f s && readlink s && cat s && mkdir d && ln -s ../f d/up && cat d/up && rm f && cat h',
      ivy.mnt
    )
    expect(out).toBe('data\nmore\n2\nsame-inode\nf\ndata\nmore\ndata\nmore\ndata\nmore\n')
  })

  test('chmod, chown and touch -d set attributes', async () => {
    // Goal: modes, owners and times are what the tools set (default_permissions uses them).
    const out = await shOk(
      'touch f && chmod 640 f && chown 1234:5678 f && touch -d "2021-02-03 04:05:06 UTC" f && ' +
        'stat -c "%a %u %g %Y" f && mkdir d && chmod 1777 d && stat -c %a d',
      ivy.mnt
    )
    expect(out).toBe(`640 1234 5678 ${Date.UTC(2021, 1, 3, 4, 5, 6) / 1000}\n1777\n`)
  })

  test('atime and mtime are set apart: touch -a, touch -m, cp -p and tar keep the mtime asked for', async () => {
    // Goal: tools that restore times (cp -p, tar x, make's view of mtime) get the mtime they set,
    // not the atime, and UTIME_OMIT leaves the other time alone.
    const out = await shOk(
      'touch -a -d "2001-01-01 00:00:00 UTC" f && touch -m -d "2002-02-02 00:00:00 UTC" f && ' +
        'stat -c "%X %Y" f && touch -a -d "2003-03-03 00:00:00 UTC" f && stat -c "%X %Y" f && ' +
        `printf x > "${ivy.scratch}/src" && touch -a -d "2004-04-04 00:00:00 UTC" "${ivy.scratch}/src" && ` +
        `touch -m -d "2005-05-05 00:00:00 UTC" "${ivy.scratch}/src" && cp -p "${ivy.scratch}/src" g && stat -c %Y g && ` +
        `tar -C "${ivy.scratch}" -cf "${ivy.scratch}/t.tar" src && mkdir t && tar -C t -xf "${ivy.scratch}/t.tar" && stat -c %Y t/src`,
      ivy.mnt
    )
    const s = (y: number, m: number, d: number): number => Date.UTC(y, m - 1, d) / 1000
    expect(out).toBe(
      `${s(2001, 1, 1)} ${s(2002, 2, 2)}\n${s(2003, 3, 3)} ${s(2002, 2, 2)}\n${s(2005, 5, 5)}\n${s(2005, 5, 5)}\n`
    )
  })

  test('times to the nanosecond: touch -d shows them in stat; cp -a and touch -r copy them exactly', async () => {
    // Goal: utimensat's nanoseconds survive the mount both ways. cp -a sets the times on its open
    // copy before closing it (they join the close's record); touch -r sets them on a closed file.
    const ns = '2001-02-03 04:05:06.123456789'
    const out = await shOk(
      `export TZ=UTC && printf data > f && touch -d '${ns}' f && stat -c '%x %y' f && ` +
        `cp -a f g && stat -c '%x %y' g && touch -r f h && stat -c '%x %y' h && ` +
        `touch -d '2001-02-03 04:05:07' f && stat -c '%x %y' f`,
      ivy.mnt
    )
    const t = `${ns} +0000`
    const whole = '2001-02-03 04:05:07.000000000 +0000'
    expect(out).toBe(`${t} ${t}\n${t} ${t}\n${t} ${t}\n${whole} ${whole}\n`)
    const ms = Date.UTC(2001, 1, 3, 4, 5, 6, 123)
    const copied = { atimeMs: ms, atimeSubMsNs: 456_789, mtimeMs: ms, mtimeSubMsNs: 456_789 }
    expect(await ivy.fs.getattr('/g')).toMatchObject(copied)
    expect(await ivy.fs.getattr('/f')).toMatchObject({ atimeSubMsNs: 0, mtimeSubMsNs: 0 })
  })

  test('every file type, owned by the user who made it (setgid directories give their group)', async () => {
    // Goal: libfuse 3's request context reaches the fs: new inodes belong to the caller, and FIFOs,
    // sockets and device nodes are inodes like any other.
    const asUser = 'setpriv --reuid 1234 --regid 5678 --clear-groups'
    const out = await shOk(
      'mkdir shared && chmod 1777 shared && mkdir g && chown 0:99 g && chmod 2777 g && ' +
        `${asUser} sh -c 'umask 027; touch shared/f; mkdir shared/d; ln -s f shared/l; mkfifo shared/p; ` +
        `touch g/f; mkdir g/d' && ` +
        'mknod shared/c c 1 3 && mknod shared/b b 7 0 && ' +
        `python3 -c "import socket; s = socket.socket(socket.AF_UNIX); s.bind('shared/s')" && ` +
        'stat -c "%n %F %u %g %a %t:%T" shared/f shared/d shared/l shared/p shared/c shared/b shared/s g/f g/d',
      ivy.mnt
    )
    expect(out.split('\n').filter((line) => line !== '')).toEqual([
      'shared/f regular empty file 1234 5678 640 0:0',
      'shared/d directory 1234 5678 750 0:0',
      'shared/l symbolic link 1234 5678 777 0:0',
      'shared/p fifo 1234 5678 640 0:0',
      'shared/c character special file 0 0 644 1:3',
      'shared/b block special file 0 0 644 7:0',
      'shared/s socket 0 0 755 0:0',
      'g/f regular empty file 1234 99 640 0:0',
      'g/d directory 1234 99 2750 0:0'
    ])
  })

  test('renameat2: RENAME_NOREPLACE refuses an existing name, RENAME_EXCHANGE swaps two', async () => {
    // Goal: the rename flags libfuse 3 passes mean what Linux says (libfuse 2 gave EINVAL).
    const renameat2 =
      'python3 -c "import ctypes, os, sys; libc = ctypes.CDLL(None, use_errno=True); ' +
      'r = libc.renameat2(-100, sys.argv[1].encode(), -100, sys.argv[2].encode(), int(sys.argv[3])); ' +
      "print(os.strerror(ctypes.get_errno()) if r else 'ok')\""
    const out = await shOk(
      'echo A > a && echo B > b && mkdir dir && ' +
        `${renameat2} a b 1 && ${renameat2} a b 2 && cat a b && ${renameat2} a dir 2 && ` +
        `stat -c %n:%F a dir && ${renameat2} b c 1 && cat c`,
      ivy.mnt
    )
    expect(out).toBe('File exists\nok\nB\nA\nok\na:directory\ndir:regular file\nok\nA\n')
  })

  test('errors carry the POSIX errno', async () => {
    // Goal: each failure reaches the program as the errno POSIX specifies.
    await shOk('mkdir -p d/sub && touch f', ivy.mnt)
    const cases: Array<[string, RegExp]> = [
      ['rmdir d', /Directory not empty/],
      ['mkdir d', /File exists/],
      ['rmdir f', /Not a directory/],
      ['cat nothing', /No such file or directory/],
      ['ln d d2', /not allowed|Operation not permitted/],
      ['touch .ivy/x', /Read-only file system|Permission denied/],
      ['mv d d/sub/inside', /Invalid argument|cannot move/]
    ]
    for (const [command, expected] of cases) {
      const result = await sh(command, ivy.mnt)
      expect(result.code, command).not.toBe(0)
      expect(result.stderr, command).toMatch(expected)
    }
  })
})
