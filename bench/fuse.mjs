// `npm run bench -- fuse`: the ivyfs mount, side by side in one run with
//   - a trivial in-memory fuse-native filesystem with the same mount code and options
//     (mountMemoryFilesystem of packages/fuse, served from its own process), and
//   - the plain local directory (same disk as the daemon's data).
// The ivyfs mount is a real daemon process (`main.js run --mount DIR`) on a one-member
// filesystem. Every mount is driven only from child processes (dd, a small-file writer, sh,
// find, cat, make, gcc); this process never touches a mount.
//
// - sequential 128 KiB write of 256 MiB of random bytes: `dd … bs=128k conv=fsync` (ivyfs's time
//   includes making the data durable), then the page cache is dropped, then the read with dd;
// - 1 KiB files: create + write 1 KiB + close, N files in one process (node, sync calls);
// - Modified-Andrew-style run, per phase: mkdir a tree, copy a source tree in (create/write),
//   stat everything (find -ls), read everything (cat), compile a generated 20-file C project
//   with make.
// Repetitions are interleaved (ivyfs, memory, local, rotating). `--quick`: 32 MiB, 300 files,
// a smaller tree, 2 repetitions.
import { spawn } from 'node:child_process'
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  writeSync,
  readFileSync
} from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { atLeastRatio, row } from './lib/table.mjs'
import {
  dropCaches,
  log,
  median,
  memoryOf,
  quick,
  run as runProgram,
  stopChild,
  waitFor
} from './lib/proc.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const ROOT = join(here, '..')
const SELF = fileURLToPath(import.meta.url)
const DAEMON_MAIN = join(ROOT, 'packages/daemon/dist/main.js')
const MiB = 1024 * 1024

const sizes = () =>
  quick
    ? { seqBytes: 32 * MiB, smallFiles: 300, reps: 2, andrew: { dirs: 4, filesPerDir: 10, cFiles: 8 } }
    : { seqBytes: 256 * MiB, smallFiles: 2000, reps: 3, andrew: { dirs: 10, filesPerDir: 20, cFiles: 20 } }

export async function run() {
  const S = sizes()
  const work = await mkdtemp(join(tmpdir(), 'ivy-bench-fuse-'))
  const children = new Set()
  const mounts = []
  const track = (child) => (children.add(child), child.once('exit', () => children.delete(child)), child)
  try {
    const ivyMount = join(work, 'mnt-ivy')
    const memMount = join(work, 'mnt-mem')
    const local = join(work, 'local')
    await Promise.all([ivyMount, memMount, local].map((dir) => mkdir(dir)))

    // The ivyfs daemon with its mount.
    const data = join(work, 'data')
    const port = await freePort()
    const listen = `/ip4/127.0.0.1/tcp/${port}`
    await runProgram(process.execPath, [DAEMON_MAIN, 'init', '--data', data, '--no-mdns', '--listen', listen])
    const daemon = track(
      spawn(
        process.execPath,
        [
          DAEMON_MAIN,
          'run',
          '--data',
          data,
          '--no-mdns',
          '--listen',
          listen,
          '--mount',
          ivyMount,
          '--log-level',
          'warn'
        ],
        {
          stdio: ['ignore', 'ignore', 'pipe']
        }
      )
    )
    daemon.stderr.pipe(createWriteStream(join(work, 'daemon.log')))
    mounts.push(ivyMount)
    await waitForMount(ivyMount, daemon)

    // The in-memory baseline in its own process.
    const memory = track(
      spawn(process.execPath, [SELF, '--child', 'memory', memMount], {
        stdio: ['ignore', 'ignore', 'inherit']
      })
    )
    mounts.push(memMount)
    await waitForMount(memMount, memory)
    log(
      `fuse: mounted ivyfs at ${ivyMount} (pid ${daemon.pid}) and the memory fs at ${memMount} (pid ${memory.pid})`
    )

    // Inputs on the local disk: random bytes for dd, a source tree for the Andrew run.
    const source = join(work, 'random.bin')
    await writeRandomFile(source, S.seqBytes)
    const tree = join(work, 'andrew-src')
    await makeSourceTree(tree, S.andrew)

    const targets = { ivyfs: ivyMount, memory: memMount, local }
    const names = Object.keys(targets)
    const seqWrite = Object.fromEntries(names.map((n) => [n, []]))
    const seqRead = Object.fromEntries(names.map((n) => [n, []]))
    const small = Object.fromEntries(names.map((n) => [n, []]))
    const andrew = Object.fromEntries(names.map((n) => [n, []]))
    const rss = []
    for (let rep = 0; rep < S.reps; rep++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(k + rep) % names.length]
        const dir = targets[name]
        // Sequential write and read.
        const file = join(dir, `seq-${rep}.bin`)
        const write = await dd(['if=' + source, 'of=' + file, 'bs=128k', 'conv=fsync'])
        await dropCaches()
        const read = await dd(['if=' + file, 'of=/dev/null', 'bs=128k'])
        if (read.bytes !== S.seqBytes) throw new Error(`${name}: read back ${read.bytes} bytes`)
        await runProgram('rm', ['-f', file])
        seqWrite[name].push(S.seqBytes / 1e6 / write.seconds)
        seqRead[name].push(S.seqBytes / 1e6 / read.seconds)
        // 1 KiB files.
        const smallDir = join(dir, `small-${rep}`)
        const result = await childJson(['smallfiles', smallDir, String(S.smallFiles)])
        small[name].push(S.smallFiles / (result.ms / 1000))
        // Andrew.
        andrew[name].push(await andrewRun(tree, join(dir, `andrew-${rep}`)))
        if (name === 'ivyfs') rss.push(memoryOf(daemon.pid))
        const last = andrew[name][andrew[name].length - 1]
        log(
          `fuse rep ${rep + 1} ${name}: write ${seqWrite[name].at(-1).toFixed(0)} MB/s, read ${seqRead[name].at(-1).toFixed(0)} MB/s, ` +
            `1 KiB files ${small[name].at(-1).toFixed(0)}/s, Andrew ${last.total.toFixed(2)} s ` +
            `(${Object.entries(last.phases)
              .map(([p, s]) => `${p} ${s.toFixed(2)}`)
              .join(', ')})`
        )
      }
    }

    const med = (table, name) => median(table[name])
    const phaseMedian = (name, phase) => median(andrew[name].map((r) => r.phases[phase]))
    const totalMedian = (name) => median(andrew[name].map((r) => r.total))
    const phases = Object.keys(andrew.ivyfs[0].phases)
    const daemonPeak = Math.max(...rss.map((m) => m?.peakMB ?? 0))
    const mb = (n) => `${(n / MiB).toFixed(0)} MiB`
    const rows = [
      row({
        what: `sequential write, 128 KiB blocks, ${mb(S.seqBytes)}, dd conv=fsync`,
        value: med(seqWrite, 'ivyfs'),
        unit: 'MB/s',
        baseline: 'in-memory fuse-native fs',
        baselineValue: med(seqWrite, 'memory'),
        target: atLeastRatio(0.75),
        note: `local dir ${med(seqWrite, 'local').toFixed(0)} MB/s; median of ${S.reps}, interleaved; ivyfs daemon peak RSS ${daemonPeak.toFixed(0)} MB`
      }),
      row({
        what: `sequential read, 128 KiB blocks, ${mb(S.seqBytes)}, page cache dropped`,
        value: med(seqRead, 'ivyfs'),
        unit: 'MB/s',
        baseline: 'in-memory fuse-native fs',
        baselineValue: med(seqRead, 'memory'),
        target: atLeastRatio(0.75),
        note: `local dir ${med(seqRead, 'local').toFixed(0)} MB/s (from disk)`
      }),
      row({
        what: '1 KiB file create + write + close',
        value: med(small, 'ivyfs'),
        unit: 'files/s',
        baseline: 'in-memory fuse-native fs',
        baselineValue: med(small, 'memory'),
        target: atLeastRatio(0.5),
        note: `${S.smallFiles} files per run, one process; local dir ${med(small, 'local').toFixed(0)} files/s; ivyfs makes each close durable`
      }),
      row({
        what: `Modified Andrew, total (${S.andrew.dirs * S.andrew.filesPerDir + S.andrew.cFiles + 2} files, make of ${S.andrew.cFiles} .c)`,
        value: totalMedian('ivyfs'),
        unit: 's',
        baseline: 'local directory',
        baselineValue: totalMedian('local'),
        lowerIsBetter: true,
        target: { text: '≤ 2× local dir', check: ({ ratio }) => ratio !== undefined && ratio >= 0.5 },
        note: `ratio = local / ivyfs (≥ 0.5 meets it); in-memory fuse fs ${totalMedian('memory').toFixed(2)} s`
      })
    ]
    for (const phase of phases) {
      rows.push(
        row({
          what: `  Andrew phase: ${phase}`,
          value: phaseMedian('ivyfs', phase),
          unit: 's',
          baseline: 'local directory',
          baselineValue: phaseMedian('local', phase),
          lowerIsBetter: true,
          note: `in-memory fuse fs ${phaseMedian('memory', phase).toFixed(3)} s`
        })
      )
    }
    return rows
  } finally {
    // Unmount and stop everything, also on failure: the daemon and the memory server unmount on
    // SIGTERM; whatever is still mounted after that is freed by force.
    await Promise.all([...children].map((child) => stopChild(child)))
    for (const mount of mounts) {
      if (await isMounted(mount)) {
        await runProgram('fusermount', ['-uz', mount], { allowFail: true })
        if (await isMounted(mount))
          await runProgram(process.execPath, [DAEMON_MAIN, 'unmount', mount], { allowFail: true })
      }
    }
    if (!(await Promise.all(mounts.map(isMounted))).some(Boolean))
      await rm(work, { recursive: true, force: true })
    else log(`fuse: a mount is still there; left ${work} (free it with ../shared/tools/unstick-fuse)`)
  }
}

async function isMounted(dir) {
  const { stdout } = await runProgram('cat', ['/proc/self/mountinfo'])
  return stdout.split('\n').some((line) => line.split(' ')[4] === dir)
}

async function waitForMount(dir, child) {
  await waitFor(
    `mount at ${dir}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`the process serving ${dir} exited with ${child.exitCode}`)
      return await isMounted(dir)
    },
    { timeoutMs: 120_000, intervalMs: 50 }
  )
}

/** Runs dd; its own report gives bytes and seconds (for the write, including the fsync). */
async function dd(args) {
  const { stderr } = await runProgram('dd', args, { timeoutMs: 600_000 })
  const match = /(\d+) bytes .* copied, ([\d.e+-]+) s/.exec(stderr)
  if (match === null) throw new Error(`unexpected dd output: ${stderr}`)
  return { bytes: Number(match[1]), seconds: Number(match[2]) }
}

async function writeRandomFile(path, bytes) {
  const fd = openSync(path, 'w')
  try {
    for (let at = 0; at < bytes; at += 16 * MiB) writeSync(fd, randomBytes(Math.min(16 * MiB, bytes - at)))
  } finally {
    closeSync(fd)
  }
}

/** A source tree: `dirs` directories of text files (1–16 KiB) and a C project with a Makefile. */
async function makeSourceTree(root, { dirs, filesPerDir, cFiles }) {
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

/** One Modified-Andrew-style run from `tree` into `target` (inside a mount or the local dir). */
async function andrewRun(tree, target) {
  const phases = {}
  const timed = async (phase, script) => {
    const t0 = performance.now()
    // The shell changes into the target itself (a spawn cwd inside a mount is avoided).
    await runProgram('sh', ['-c', script], { env: { T: target, SRC: tree }, timeoutMs: 600_000 })
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
  return { phases, total }
}

function childJson(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SELF, '--child', ...args], {
      stdio: ['ignore', 'pipe', 'inherit']
    })
    let out = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`child ${args.join(' ')} exited with ${code}`))
      resolve(JSON.parse(out.trim().split('\n').at(-1)))
    })
  })
}

async function freePort() {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

// ---------------------------------------------------------------------------------------------
// Children (they may touch the mounts: none of them serves one, except 'memory', which never reads it)

async function serveMemory(mountPoint) {
  const { mountMemoryFilesystem } = await import(join(ROOT, 'packages/fuse/dist/index.js'))
  const handle = await mountMemoryFilesystem(mountPoint)
  process.on('SIGTERM', () => {
    handle.unmount().then(
      () => process.exit(0),
      () => process.exit(1)
    )
  })
  await new Promise(() => {})
}

/** N files: open(O_CREAT|O_WRONLY|O_TRUNC), write 1 KiB, close — timed in this process. */
function smallFiles(dir, count) {
  mkdirSync(dir)
  const data = randomBytes(1024)
  const t0 = performance.now()
  for (let i = 0; i < count; i++) {
    const fd = openSync(join(dir, `f${i}`), 'w')
    writeSync(fd, data)
    closeSync(fd)
  }
  const ms = performance.now() - t0
  if (!existsSync(join(dir, `f${count - 1}`)) || readFileSync(join(dir, 'f0')).length !== 1024)
    throw new Error('small files not written')
  return { ms }
}

if (process.argv[1] === SELF && process.argv[2] === '--child') {
  const [role, ...args] = process.argv.slice(3)
  const work =
    role === 'memory' ? serveMemory(args[0]) : Promise.resolve(smallFiles(args[0], Number(args[1])))
  work.then(
    (result) => {
      if (result !== undefined) process.stdout.write(JSON.stringify(result) + '\n')
      process.exit(0)
    },
    (err) => {
      process.stderr.write(`${err.stack ?? err}\n`)
      process.exit(1)
    }
  )
}
