// `npm run bench -- workloads`: everyday programs on a mounted ivyfs of 1, 2 and 3 members (one
// daemon process each, strict mode, 127.0.0.1) next to a local directory on the same disk, in the
// same run: `tar x` of this repository's packages/ sources, `git clone` of a local repository,
// and 200 sqlite3 commits. Each run ends durable: `sync` and an fsync of the directory (on a
// mount that is fsyncdir, which waits for the group commit; `sync` alone cannot reach a FUSE
// filesystem). Target: each ≤ 2× local. The note gives the same workload on the in-memory FUSE
// filesystem of packages/fuse (mountMemoryFilesystem, same binding and options, no log at all):
// the floor the FUSE binding itself sets, served from this process.
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startDaemons } from './lib/daemons.mjs'
import { quick } from './lib/proc.mjs'
import { row } from './lib/table.mjs'

const run = promisify(execFile)
const SQLITE_COMMITS = quick ? 50 : 200
const REPEATS = quick ? 1 : 3

async function sh(script, cwd) {
  await run('bash', ['-euo', 'pipefail', '-c', script], { cwd, maxBuffer: 64 * 1024 * 1024 })
}

/** Makes everything under `dir` durable: sync, then fsync of the directory itself. */
const durable = (dir) =>
  `sync; python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd)' ${dir}`

function workloads(fixtures) {
  const sql = Array.from(
    { length: SQLITE_COMMITS },
    (_, i) => `BEGIN; INSERT INTO t VALUES (${i}, printf('%.500c', 'x')); COMMIT;`
  ).join('\n')
  return [
    {
      name: `tar x of packages/ (${fixtures.entries} entries) + sync`,
      script: (dir) => `mkdir ${dir}/tar && tar -xf ${fixtures.tarball} -C ${dir}/tar && ${durable(dir)}`
    },
    {
      name: 'git clone of a local repository + sync',
      script: (dir) => `git clone -q --no-hardlinks ${fixtures.repo} ${dir}/clone && ${durable(dir)}`
    },
    {
      name: `sqlite3, ${SQLITE_COMMITS} commits`,
      script: (dir) =>
        `sqlite3 ${dir}/db.sqlite 'CREATE TABLE t (k INTEGER, v TEXT);' && sqlite3 ${dir}/db.sqlite <<'SQL'\n${sql}\nSQL`
    }
  ]
}

async function timed(script) {
  const start = performance.now()
  await sh(script)
  return (performance.now() - start) / 1000
}

async function makeFixtures(root, work) {
  const tarball = join(work, 'packages.tar')
  await sh(
    `tar --exclude=node_modules --exclude=dist --exclude='*.tsbuildinfo' -cf ${tarball} packages`,
    root
  )
  const { stdout } = await run('tar', ['-tf', tarball], { maxBuffer: 64 * 1024 * 1024 })
  const repo = join(work, 'repo')
  await mkdir(repo)
  await sh(
    `tar -xf ${tarball} && git init -q && git add -A && git -c user.email=b@e -c user.name=bench commit -qm fixture`,
    repo
  )
  return { tarball, repo, entries: stdout.trim().split('\n').length }
}

/** Median seconds of each workload on the in-memory FUSE mount (the binding's floor). */
async function fuseFloor(root, work, list) {
  const { mountMemoryFilesystem } = await import(join(root, 'packages/fuse/dist/index.js'))
  const mountPoint = join(work, 'memory-mount')
  await mkdir(mountPoint)
  const handle = await mountMemoryFilesystem(mountPoint)
  try {
    const medians = []
    for (const [index, workload] of list.entries()) {
      const times = []
      for (let r = 0; r < REPEATS; r++) {
        const dir = join(mountPoint, `w-${index}-${r}`)
        await mkdir(dir)
        times.push(await timed(workload.script(dir)))
      }
      medians.push([...times].sort((a, b) => a - b)[Math.floor(times.length / 2)])
    }
    return medians
  } finally {
    await handle.unmount()
  }
}

export async function run_({ root }) {
  const work = await mkdtemp(join(tmpdir(), 'ivy-bench-workloads-'))
  const rows = []
  try {
    const fixtures = await makeFixtures(root, work)
    const list = workloads(fixtures)
    const floor = await fuseFloor(root, work, list)
    for (const size of [1, 2, 3]) {
      const cluster = await startDaemons(root, size, { mount: true })
      try {
        const mount = cluster.daemons[0].mount
        for (const [index, workload] of list.entries()) {
          const local = []
          const ivy = []
          // Interleaved, fresh directories each time: both sides see the same machine noise.
          for (let r = 0; r < REPEATS; r++) {
            const localDir = join(work, `local-${size}-${index}-${r}`)
            const ivyDir = join(mount, `w-${index}-${r}`)
            await mkdir(localDir)
            await mkdir(ivyDir)
            local.push(await timed(workload.script(localDir)))
            ivy.push(await timed(workload.script(ivyDir)))
          }
          const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
          rows.push(
            row({
              what: `${size} member${size > 1 ? 's' : ''}: ${workload.name}`,
              value: median(ivy),
              unit: 's',
              baseline: 'local directory',
              baselineValue: median(local),
              lowerIsBetter: true,
              target: { text: '≤ 2× local', check: ({ ratio }) => ratio !== undefined && ratio >= 0.5 },
              note: `median of ${REPEATS}; in-memory FUSE ${floor[index].toFixed(3)} s`
            })
          )
        }
      } finally {
        await cluster.stop()
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
  return rows
}

export { run_ as run }
