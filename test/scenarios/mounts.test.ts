import { afterEach, describe, expect, test } from 'vitest'
import { Cluster } from '../helpers/cluster.js'
import { DaemonProcess, freePort, ivy } from '../helpers/daemon-process.js'
import { fuseMissing, sh } from '../helpers/fuse-env.js'
import { waitFor } from '../helpers/wait.js'

/**
 * Daemons as separate processes, each with its filesystem mounted (`main.js run --mount`), driven
 * only by ordinary programs in child shells: the locking primitive and the cross-machine view.
 */
const ROUNDS = Number(process.env['IVYFS_LOCK_ROUNDS'] ?? 200)
const LOOPS = Number(process.env['IVYFS_LOCK_LOOPS'] ?? 15)
/** Three daemons to start, then up to a second per racing round on a loaded host. */
const RACE_TIMEOUT_MS = 60_000 + ROUNDS * 1_000

const mountOf = (daemon: DaemonProcess): string => {
  if (daemon.mountPoint === undefined) throw new Error('not mounted')
  return daemon.mountPoint
}

describe.skipIf(fuseMissing())('mounted daemons on 127.0.0.1', () => {
  let cluster: Cluster | undefined

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && cluster !== undefined) console.error(await cluster.logs())
    await cluster?.stop()
    cluster = undefined
  })

  test(
    `${ROUNDS} rounds of three mounts racing mkdir of one name: exactly one wins each`,
    async () => {
      // Goal: mkdir is exclusive across machines; losers see EEXIST, never a second success.
      cluster = await Cluster.start({ size: 3, mount: true })
      const mounts = cluster.daemons.map(mountOf)
      // Every daemon must know every member before it can count a majority of them.
      await cluster.converged()
      for (let round = 0; round < ROUNDS; round++) {
        const results = await Promise.all(mounts.map((dir) => sh(`mkdir race-${round}`, dir)))
        const winners = results.filter((r) => r.code === 0).length
        const exists = results.filter((r) => /File exists/.test(r.stderr)).length
        expect({ round, winners, exists, errors: results.map((r) => r.stderr.trim()) }).toMatchObject({
          round,
          winners: 1,
          exists: 2
        })
      }
      const hash = await cluster.converged()
      expect(hash.treeHash).toMatch(/^[0-9a-f]{64}$/)
      const listing = await sh('ls | wc -l', mounts[0] as string)
      expect(listing.stdout.trim()).toBe(String(ROUNDS))
    },
    RACE_TIMEOUT_MS
  )

  test('a counter incremented under mkdir and dotlockfile locks from three mounts ends exact', async () => {
    // Goal: programs that lock with exclusive creation work across machines (no lost update).
    cluster = await Cluster.start({ size: 3, mount: true })
    const mounts = cluster.daemons.map(mountOf)
    const first = await sh('echo 0 > counter-mkdir && echo 0 > counter-dot', mounts[0] as string)
    expect(first.code).toBe(0)
    await cluster.converged()
    const mkdirLoop = `i=0; while [ $i -lt ${LOOPS} ]; do
      until mkdir lock.d 2>/dev/null; do sleep 0.02; done
      n=$(cat counter-mkdir); echo $((n + 1)) > counter-mkdir
      rmdir lock.d; i=$((i + 1))
    done`
    const dotLoop = `i=0; while [ $i -lt ${LOOPS} ]; do
      dotlockfile -l -r -1 -p counter.lock || exit 3
      n=$(cat counter-dot); echo $((n + 1)) > counter-dot
      dotlockfile -u counter.lock; i=$((i + 1))
    done`
    const runs = await Promise.all(
      mounts.flatMap((dir) => [sh(mkdirLoop, dir, 240_000), sh(dotLoop, dir, 240_000)])
    )
    for (const run of runs) expect(run.stderr).toBe('')
    await cluster.converged()
    for (const dir of mounts) {
      const counters = await sh('cat counter-mkdir counter-dot', dir)
      expect(counters.stdout.split('\n').slice(0, 2)).toEqual([String(3 * LOOPS), String(3 * LOOPS)])
    }
  })

  test('a file closed on one mount appears on another with the same bytes; a collision is listed', async () => {
    // Goal: close-to-open across machines, and concurrent writes end in one agreed result plus a conflict.
    // 'available': with two members a strict majority is both, and a cut-off side could not create at all.
    cluster = await Cluster.start({ size: 2, mount: true, lockMode: 'available' })
    const [a, b] = cluster.daemons.map(mountOf) as [string, string]
    const wrote = await sh('head -c 300000 /dev/urandom > data.bin && sha256sum data.bin', a)
    expect(wrote.code).toBe(0)
    const sum = wrote.stdout.split(' ')[0]
    await waitFor('data.bin on the other mount', async () => {
      const seen = await sh('sha256sum data.bin 2>/dev/null', b)
      return seen.stdout.split(' ')[0] === sum ? true : undefined
    })
    // Concurrent: both overwrite the same bytes of one file while cut off from each other.
    expect((await sh('printf base > same.txt', a)).code).toBe(0)
    await cluster.converged()
    const [da, db] = [cluster.at(0), cluster.at(1)]
    await db.stop()
    const alone = new DaemonProcess(db.dataDir, await freePort(), [], db.mountPoint)
    cluster.daemons.push(alone) // stopped by cluster.stop() even if an assertion fails first
    await alone.start()
    expect((await sh('printf AAAA > same.txt', a)).code).toBe(0)
    expect((await sh('printf BBBB > same.txt', b)).code).toBe(0)
    await alone.stop()
    const healed = new DaemonProcess(db.dataDir, db.port, db.bootstrap, db.mountPoint)
    cluster.daemons[1] = healed
    await healed.start()
    await cluster.converged()
    const [ra, rb] = await Promise.all([sh('cat same.txt', a), sh('cat same.txt', b)])
    expect(ra.stdout).toBe(rb.stdout)
    expect(['AAAA', 'BBBB']).toContain(ra.stdout)
    for (const dir of [a, b]) {
      const listing = await sh('ls .ivy/conflicts/ && cat .ivy/conflicts/*', dir)
      expect(listing.code).toBe(0)
      expect(listing.stdout).toMatch(/same\.txt/)
    }
    expect(da.running).toBe(true)
  })

  test('a cut-off mount gets EAGAIN for mkdir while the connected two keep locking', async () => {
    // Goal: under partition a minority never grants a lock; after healing no name exists twice.
    // Ordinary work goes on alone meanwhile: only exclusive creates need a majority. (Not `cp`
    // or `mv`: GNU cp, like tar and git, creates with O_EXCL, and mv renames with
    // RENAME_NOREPLACE, both exclusive creates; plain rename(2) here is python's os.rename.)
    cluster = await Cluster.start({ size: 3, mount: true })
    const c = cluster.at(2)
    await c.stop()
    const alone = new DaemonProcess(c.dataDir, await freePort(), [], c.mountPoint)
    cluster.daemons.push(alone) // stopped by cluster.stop() even if an assertion fails first
    await alone.start()
    const offline = await sh(
      'echo draft > notes.txt && cat notes.txt > copy.txt && ' +
        `python3 -c "import os; os.rename('copy.txt', 'kept.txt')" && ` +
        'echo gone > tmp.txt && rm tmp.txt && chmod 600 kept.txt && cat kept.txt',
      mountOf(alone),
      10_000
    )
    expect(offline, offline.stderr).toMatchObject({ code: 0, stdout: 'draft\n' })
    const cut = await sh('mkdir lock-x', mountOf(alone), 30_000)
    expect(cut.code).not.toBe(0)
    expect(cut.stderr).toMatch(/Resource temporarily unavailable/)
    expect((await sh('mkdir lock-x', mountOf(cluster.at(0)))).code).toBe(0)
    expect((await sh('mkdir lock-x', mountOf(cluster.at(1)))).stderr).toMatch(/File exists/)
    await alone.stop()
    const healed = new DaemonProcess(c.dataDir, c.port, c.bootstrap, c.mountPoint)
    cluster.daemons[2] = healed
    await healed.start()
    await cluster.converged()
    const listing = await sh('ls', mountOf(healed))
    expect(listing.stdout.split('\n').filter((name) => name.startsWith('lock-x'))).toEqual(['lock-x'])
    const seen = await sh('cat kept.txt && ls', mountOf(cluster.at(0)))
    expect(seen.stdout).toMatch(/^draft\n/)
    expect(seen.stdout).not.toMatch(/tmp\.txt|copy\.txt/)
  })

  test('a mount left by a daemon killed with SIGKILL is freed by `ivy unmount DIR`', async () => {
    // Goal: a crashed daemon does not leave a dead mount behind for good.
    cluster = await Cluster.start({ size: 1, mount: true })
    const a = cluster.at(0)
    await sh('echo kept > kept.txt', mountOf(a))
    await a.stop('SIGKILL')
    const stale = await sh('ls', mountOf(a), 10_000)
    expect(stale.code).not.toBe(0)
    const freed = await ivy(['unmount', mountOf(a), '--data', a.dataDir])
    expect(freed.code).toBe(0)
    await a.start()
    expect((await sh('cat kept.txt', mountOf(a))).stdout).toBe('kept\n')
  })
})
