// Reliability: crash consistency (issue 8). A daemon serving a mount is SIGKILLed at a random
// moment of a write workload that runs in a child shell on the mount; after freeing the stale
// mount and restarting the daemon, every file whose close succeeded before the kill must read
// back byte for byte, and every record of the store must decode and verify.
// Soak: node test/soak/crash-consistency.mjs [trials=100] [seed]
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { DaemonProcess, freePort } from '../helpers/daemon-process.js'
import { fuseMissing } from '../helpers/fuse-env.js'
import {
  freeMountsBelow,
  freeStaleMount,
  mountType,
  runShell,
  startShell,
  type ShellJob
} from '../helpers/mounts.js'
import { Prng, progress, reportSummary, soakParams, withSeed } from '../helpers/soak.js'
import { checkStore } from '../helpers/store-check.js'
import { waitFor } from '../helpers/wait.js'

const params = soakParams({ trials: 3, seed: 1 })
/** Writes one workload attempts; the kill normally comes long before the last. */
const OPS_PER_TRIAL = 120
const KILL_AFTER_MS_MAX = 1500

interface Status {
  mount: string | null
  forks: number
  records: number
}

interface Op {
  name: string
  source: string
  sha256: string
  script: string
}

/** File sizes around the interesting boundaries: inline data, one 64 KiB chunk, several chunks. */
function fileSize(rng: Prng): number {
  const roll = rng.next()
  if (roll < 0.05) return 0
  if (roll < 0.3) return rng.between(1, 100)
  if (roll < 0.5) return rng.between(101, 4096)
  if (roll < 0.65) return rng.pick([65535, 65536, 65537, 131072, 131073])
  if (roll < 0.95) return rng.between(4097, 300_000)
  return rng.between(300_001, 1_500_000)
}

/** The shell workload of one trial: each file's name goes to the journal only once its close succeeded. */
async function makeWorkload(rng: Prng, trial: number, sources: string): Promise<Op[]> {
  const ops: Op[] = []
  for (let i = 0; i < OPS_PER_TRIAL; i++) {
    const data = rng.bytes(fileSize(rng))
    const source = join(sources, `s${i}`)
    await writeFile(source, data)
    const sha256 = createHash('sha256').update(data).digest('hex')
    const dir = `t${trial}`
    const name = `${dir}/f${i}`
    const how = rng.int(6)
    const cut = rng.int(data.byteLength + 1)
    let script: string
    let journalled = name
    if (how === 0) script = `cp "${source}" ${name}`
    else if (how === 1) script = `cp "${source}" ${name}.tmp && mv ${name}.tmp ${name}`
    else if (how === 2) script = `dd if="${source}" of=${name} bs=64k conv=fsync status=none`
    else if (how === 3)
      script = `head -c ${cut} "${source}" > ${name} && tail -c +${cut + 1} "${source}" >> ${name}`
    else if (how === 4) {
      journalled = `${dir}/d${i % 5}/f${i}`
      script = `mkdir -p ${dir}/d${i % 5} && cat "${source}" > ${journalled}`
    } else script = `cp "${source}" ${name}.junk && rm ${name}.junk && cp "${source}" ${name}`
    ops.push({
      name: journalled,
      source,
      sha256,
      script: `${script} && echo ${journalled} >> "$JOURNAL" || exit 3`
    })
  }
  return ops
}

async function liveMount(daemon: DaemonProcess, mnt: string): Promise<void> {
  await waitFor('the mount to be served', async () => {
    const status = await daemon.call<Status>('status')
    if (status.mount === null) return undefined
    return (await runShell('stat -c %i . >/dev/null', mnt, 10_000)).code === 0
  })
}

interface Checked {
  checked: number
  lost: string[]
  corrupt: string[]
}

/** Reads every journalled file through the mount (a child process) and compares its SHA-256. */
async function checkJournal(mnt: string, scratch: string, expected: Map<string, string>): Promise<Checked> {
  const journal = (await readFile(join(scratch, 'journal'), 'utf8')).split('\n').filter((line) => line !== '')
  const list = join(scratch, 'journal-list')
  await writeFile(list, journal.join('\n') + '\n')
  const result = await runShell(`xargs -d '\\n' sha256sum -- < "${list}"`, mnt, 120_000)
  const seen = new Map<string, string>()
  for (const line of result.stdout.split('\n')) {
    const match = /^([0-9a-f]{64}) {2}(.*)$/.exec(line)
    if (match !== null) seen.set(match[2] as string, match[1] as string)
  }
  const lost: string[] = []
  const corrupt: string[] = []
  for (const name of journal) {
    const hash = seen.get(name)
    if (hash === undefined) lost.push(name)
    else if (hash !== expected.get(name)) corrupt.push(name)
  }
  return { checked: journal.length, lost, corrupt }
}

describe.skipIf(fuseMissing())('crash consistency of a daemon with a mount', () => {
  let root: string | undefined
  let daemon: DaemonProcess | undefined
  let job: ShellJob | undefined

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && daemon !== undefined) console.error(await daemon.logTail(80))
    job?.kill()
    await daemon?.stop('SIGKILL')
    if (root !== undefined) {
      await freeMountsBelow(root)
      await rm(root, { recursive: true, force: true })
    }
    root = daemon = job = undefined
  })

  test(
    `closed files survive SIGKILL of the daemon at random moments (${params.trials} trials)`,
    async () => {
      // Goal: a close that succeeded is durable whatever instant the daemon dies at, the log
      // stays verifiable, and the daemon restarts on the same data and mount point.
      await withSeed('crash-consistency', params, async () => {
        root = await mkdtemp(join(tmpdir(), 'ivyfs-crash-'))
        const [dataDir, mnt, scratch] = ['data', 'mnt', 'scratch'].map((name) =>
          join(root as string, name)
        ) as [string, string, string]
        await Promise.all([mkdir(dataDir), mkdir(mnt), mkdir(scratch)])
        await writeFile(join(scratch, 'journal'), '')
        const rng = new Prng(params.seed)
        daemon = new DaemonProcess(dataDir, await freePort(), [], mnt)
        await daemon.init('strict')
        await daemon.start()
        await liveMount(daemon, mnt)

        const expected = new Map<string, string>()
        const problems: string[] = []
        const freedBy: Record<string, number> = {}
        let checked = 0
        let records = 0
        let kills = 0
        for (let trial = 0; trial < params.trials; trial++) {
          const startedMs = Date.now()
          const trialRng = rng.fork(trial)
          const sources = join(scratch, 'sources')
          await rm(sources, { recursive: true, force: true })
          await mkdir(sources)
          const ops = await makeWorkload(trialRng, trial, sources)
          for (const op of ops) expected.set(op.name, op.sha256)
          const generatedMs = Date.now()
          const killAfterMs = trialRng.between(0, KILL_AFTER_MS_MAX)
          const script = `mkdir t${trial} || exit 3\n${ops.map((op) => op.script).join('\n')}\n`
          job = startShell(script, mnt, { JOURNAL: join(scratch, 'journal') })
          await new Promise((resolve) => setTimeout(resolve, killAfterMs)) // a random kill moment, not a synchronisation
          await daemon.stop('SIGKILL')
          kills++
          // The kernel fails what the dead server had pending; the workload then stops on `|| exit 3`.
          const exited = await Promise.race([
            job.done,
            new Promise((resolve) => setTimeout(() => resolve(undefined), 10_000))
          ])
          const waitedMs = Date.now()
          const how = await freeStaleMount(mnt)
          freedBy[how] = (freedBy[how] ?? 0) + 1
          if (exited === undefined) {
            job.kill()
            await job.done
          }
          job = undefined

          const killedMs = Date.now()
          const report = await checkStore(dataDir)
          records = report.records
          for (const problem of report.problems) problems.push(`trial ${trial}: log: ${problem}`)
          if (report.forks !== 0)
            problems.push(`trial ${trial}: the store holds ${report.forks} forks of its own log`)

          const verifiedMs = Date.now()
          await daemon.start()
          await liveMount(daemon, mnt)
          const restartedMs = Date.now()
          const status = await daemon.call<Status>('status')
          if (status.forks !== 0) problems.push(`trial ${trial}: status reports ${status.forks} forks`)
          const result = await checkJournal(mnt, scratch, expected)
          progress(
            params,
            `trial ${trial}: killed after ${killAfterMs} ms, ${result.checked - checked} files closed before, mount freed by ${how}; ` +
              `generate ${generatedMs - startedMs} ms, workload exit ${waitedMs - generatedMs - killAfterMs} ms, free ${killedMs - waitedMs} ms, log check ${verifiedMs - killedMs} ms, restart ${restartedMs - verifiedMs} ms, ` +
              `file check ${Date.now() - restartedMs} ms; lost ${result.lost.length}, corrupt ${result.corrupt.length}, log problems ${report.problems.length}`
          )
          checked = result.checked
          for (const name of result.lost)
            problems.push(`trial ${trial} (kill after ${killAfterMs} ms): lost ${name}`)
          for (const name of result.corrupt)
            problems.push(`trial ${trial} (kill after ${killAfterMs} ms): corrupt ${name}`)
          if (result.lost.length + result.corrupt.length > 0) break // later trials would repeat the same finding
        }
        const lost = problems.filter((p) => p.includes(': lost ')).length
        const corrupt = problems.filter((p) => p.includes(': corrupt ')).length
        reportSummary('crash-consistency', {
          seed: params.seed,
          trials: kills,
          'closed files checked': checked,
          'log records verified': records,
          lost,
          corrupt,
          'log problems': problems.length - lost - corrupt,
          'stale mount freed by':
            Object.entries(freedBy)
              .map(([how, n]) => `${how} ×${n}`)
              .join(' ') || 'none'
        })
        expect(await mountType(mnt)).toMatch(/^fuse/)
        expect(problems, problems.slice(0, 20).join('\n')).toEqual([])
      })
    },
    params.soak ? 0 : 90_000
  )
})
