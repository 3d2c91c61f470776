// The Modified-Andrew-style workload (Howard et al. 1988, as Ivy used it), shared by `fuse` (one
// mount) and `andrew3` (three daemons' mounts at once): a generated source tree on the local disk,
// then per phase one shell: mkdir the tree, copy the files in (create/write), stat everything,
// read everything, compile the C project with make and run it. Only child processes (sh, cp,
// find, cat, make, cc) touch the target, so it may be inside a FUSE mount.
// `treeDigest` walks a tree and hashes it (for comparing the same tree seen through different mounts).
import { createHash } from 'node:crypto'
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { run } from './proc.mjs'

/** Tree sizes: the full run (≈ 220 files, ≈ 1.8 MB) and the --quick one. */
export const andrewSizes = (quick) =>
  quick ? { dirs: 4, filesPerDir: 10, cFiles: 8 } : { dirs: 10, filesPerDir: 20, cFiles: 20 }

/** How the workload is described in a table row. */
export const andrewLabel = ({ dirs, filesPerDir, cFiles }) =>
  `${dirs * filesPerDir + cFiles + 2} files, make of ${cFiles} .c`

/** A source tree: `dirs` directories of text files (1–16 KiB) and a C project with a Makefile. */
export async function makeSourceTree(root, { dirs, filesPerDir, cFiles }) {
  for (let d = 0; d < dirs; d++) {
    const dir = join(root, 'docs', `d${d}`, 'sub')
    await mkdir(dir, { recursive: true })
    for (let f = 0; f < filesPerDir; f++) {
      const size = 1024 * (1 + ((d * 7 + f * 13) % 16))
      const line = `line of text in file ${f} of directory ${d} — ivyfs Andrew benchmark\n`
      await writeFile(join(dir, `file${f}.txt`), line.repeat(Math.ceil(size / line.length)).slice(0, size))
    }
  }
  const proj = join(root, 'proj')
  await mkdir(join(proj, 'src'), { recursive: true })
  await writeFile(
    join(proj, 'src', 'common.h'),
    `#ifndef COMMON_H\n#define COMMON_H\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n${Array.from({ length: cFiles }, (_, i) => `long unit${i}(long n);`).join('\n')}\n#endif\n`
  )
  for (let i = 0; i < cFiles; i++) {
    await writeFile(
      join(proj, 'src', `unit${i}.c`),
      `#include "common.h"\n\nstruct item${i} { long key; char name[32]; struct item${i} *next; };\n\n` +
        `static long mix${i}(long x) { x ^= x >> 13; x *= 0x5bd1e995; x ^= x >> 15; return x + ${i}; }\n\n` +
        `static int cmp${i}(const void *a, const void *b) { long x = *(const long *)a, y = *(const long *)b; return (x > y) - (x < y); }\n\n` +
        `long unit${i}(long n) {\n  long *v = malloc(sizeof(long) * (size_t)(n + 1));\n  struct item${i} *head = NULL;\n  long sum = 0;\n` +
        `  for (long k = 0; k <= n; k++) v[k] = mix${i}(k * ${i + 3});\n  qsort(v, (size_t)(n + 1), sizeof(long), cmp${i});\n` +
        `  for (long k = 0; k < n && k < 64; k++) {\n    struct item${i} *it = malloc(sizeof *it);\n    it->key = v[k];\n    snprintf(it->name, sizeof it->name, "item-%ld", k);\n    it->next = head;\n    head = it;\n  }\n` +
        `  while (head != NULL) { struct item${i} *next = head->next; sum += head->key % 1000 + (long)strlen(head->name); free(head); head = next; }\n` +
        `  free(v);\n  return sum;\n}\n`
    )
  }
  await writeFile(
    join(proj, 'src', 'main.c'),
    `#include "common.h"\n\nint main(void) {\n  long total = 0;\n${Array.from({ length: cFiles }, (_, i) => `  total += unit${i}(1000);`).join('\n')}\n  printf("%ld\\n", total);\n  return 0;\n}\n`
  )
  const objects = [...Array.from({ length: cFiles }, (_, i) => `unit${i}.o`), 'main.o']
  await writeFile(
    join(proj, 'Makefile'),
    `CC ?= cc\nCFLAGS ?= -O1 -Wall\nOBJS = ${objects.join(' ')}\n\nall: app\n\napp: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n\n%.o: src/%.c src/common.h\n\t$(CC) $(CFLAGS) -c -o $@ $<\n\nclean:\n\trm -f app $(OBJS)\n`
  )
}

/**
 * One Modified-Andrew-style run from `tree` into `target` (inside a mount or the local dir):
 * seconds per phase, their total, and when it started and ended (`performance.now()` ms).
 */
export async function andrewRun(tree, target) {
  const phases = {}
  const startedAt = performance.now()
  const timed = async (phase, script) => {
    const t0 = performance.now()
    // The shell changes into the target itself (a spawn cwd inside a mount is avoided).
    await run('sh', ['-c', script], { env: { T: target, SRC: tree }, timeoutMs: 600_000 })
    phases[phase] = (performance.now() - t0) / 1000
  }
  await timed(
    'mkdir',
    `mkdir "$T" && cd "$T" && for d in $(cd "$SRC" && find . -type d | sort); do mkdir -p "$d"; done`
  )
  await timed('create/write (cp)', `cd "$T" && cp -R "$SRC"/. .`)
  await timed('stat all (find -ls)', `cd "$T" && find . -ls > /dev/null`)
  await timed('read all (cat)', `cd "$T" && find . -type f -exec cat {} + > /dev/null`)
  await timed('compile (make)', `cd "$T/proj" && make -s && ./app > /dev/null`)
  const total = Object.values(phases).reduce((sum, s) => sum + s, 0)
  return { phases, total, startedAt, endedAt: performance.now() }
}

/**
 * Walks `dir` (names sorted, links not followed) and hashes it: `content` covers every path, its
 * type, permission bits, size and bytes (or link target); `full` also the mtime (ms). Also counts
 * files and bytes. `read: false` leaves the bytes out (metadata only: lstat, no reads).
 * Synchronous: call it in a child process when `dir` is inside a mount.
 */
export function treeDigest(dir, { read = true } = {}) {
  const content = createHash('sha256')
  const full = createHash('sha256')
  let files = 0
  let dirs = 0
  let bytes = 0
  const walk = (abs, rel) => {
    for (const name of readdirSync(abs).sort()) {
      const path = join(abs, name)
      const relPath = `${rel}/${name}`
      const st = lstatSync(path)
      const type = st.isDirectory() ? 'd' : st.isFile() ? 'f' : st.isSymbolicLink() ? 'l' : '?'
      const head = `${type} ${relPath} ${(st.mode & 0o7777).toString(8)} ${st.isDirectory() ? '' : st.size}\n`
      content.update(head)
      full.update(`${head}${Math.floor(st.mtimeMs)}\n`)
      if (type === 'f' && !read) {
        files++
        bytes += st.size
      } else if (type === 'f') {
        const data = readFileSync(path)
        if (data.length !== st.size)
          throw new Error(`${relPath}: stat says ${st.size} bytes, read ${data.length}`)
        content.update(data)
        full.update(data)
        files++
        bytes += data.length
      } else if (type === 'l') {
        const target = readlinkSync(path)
        content.update(target)
        full.update(target)
      } else if (type === 'd') {
        dirs++
        walk(path, relPath)
      }
    }
  }
  walk(dir, '')
  return { content: content.digest('hex'), full: full.digest('hex'), files, dirs, bytes }
}
