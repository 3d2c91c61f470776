// Reliability: a hostile peer (issue 8). A raw libp2p peer holding a real member's key attacks a
// daemon process with seeded random fuzzed frames, forged signatures, replayed and reordered
// records, oversized messages and one fork. The daemon must keep serving (its control socket and
// an honest second daemon), store nothing invalid, and report the fork.
// Soak: node test/soak/hostile-peer.mjs [trials=300] [seed]
// The attacks are in test/helpers/hostile-attacks.ts, the side protocols in
// test/helpers/hostile-side-protocols.ts.
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { KeyPair, decodeRecord, fromHex, loadKeyPair, toHex, type SignedRecord } from '@ivyfs/log'
import { DaemonProcess, freePort } from '../helpers/daemon-process.js'
import {
  attacks,
  fileOps,
  memberRecord,
  nextMemberRecord,
  type Attack,
  type Context
} from '../helpers/hostile-attacks.js'
import { HostilePeer, type RawSession } from '../helpers/hostile-peer.js'
import { fuzzSideProtocols } from '../helpers/hostile-side-protocols.js'
import { Prng, progress, reportSummary, soakParams, withSeed } from '../helpers/soak.js'
import { checkStore } from '../helpers/store-check.js'
import { waitFor } from '../helpers/wait.js'

const params = soakParams({ trials: 24, seed: 1 })

interface Status {
  pid: number
  participant: string
  fsId: string
  listen: string[]
  forks: number
  logs: Array<{ author: string; held: number }>
  peers: Array<{ key: string; connected: boolean }>
}

const b64 = (text: string): string => Buffer.from(text).toString('base64')

describe('a hostile member attacking a daemon process', () => {
  let root: string | undefined
  const daemons: DaemonProcess[] = []
  const peers: HostilePeer[] = []

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail')
      for (const d of daemons) console.error(`--- ${d.dataDir}\n${await d.logTail(60)}`)
    for (const peer of peers.splice(0)) await peer.stop().catch(() => undefined)
    await Promise.all(daemons.splice(0).map((d) => d.stop('SIGKILL')))
    if (root !== undefined) await rm(root, { recursive: true, force: true })
    root = undefined
  })

  test(
    `keeps serving, stores nothing invalid and reports the fork (${params.trials} attacks)`,
    async () => {
      // Goal: nothing a member sends can crash the daemon, get an invalid record stored, or stop
      // it serving others; two records with one seq are kept as fork evidence and reported.
      await withSeed('hostile-peer', params, async () => {
        root = await mkdtemp(join(tmpdir(), 'ivyfs-hostile-'))
        const rng = new Prng(params.seed)
        const a = new DaemonProcess(join(root, 'a'), await freePort())
        daemons.push(a)
        await a.init('available')
        await a.start()
        const b = new DaemonProcess(join(root, 'b'), await freePort(), [a.address])
        await b.join((await a.call<{ ticket: string }>('invite')).ticket)
        await b.start()
        daemons.push(b)
        // The hostile member: a data directory made by `join`, whose key we then hold.
        const memberDir = join(root, 'm')
        await new DaemonProcess(memberDir, await freePort()).join(
          (await a.call<{ ticket: string }>('invite')).ticket
        )
        const member = await loadKeyPair(join(memberDir, 'key.json'))
        const status = await a.call<Status>('status')
        const fsId = fromHex(status.fsId)
        const target = HostilePeer.target(
          status.listen.find((l) => l.includes('127.0.0.1')) as string,
          status.participant
        )
        const hostile = await HostilePeer.start(member)
        const outsider = await HostilePeer.start(KeyPair.generate())
        peers.push(hostile, outsider)
        const bKey = (await b.call<Status>('status')).participant

        const seen = new Map<string, SignedRecord>()
        const collect = (session: RawSession): void => {
          for (const message of session.received) {
            if (message.t !== 'rec') continue
            const record = decodeRecord(message.bytes)
            seen.set(toHex(record.id), record)
          }
        }
        // A first, polite session: the daemon sends its log; its genesis names the root directory.
        const first = await hostile.replicate(target, fsId)
        await waitFor('the daemon to send its genesis', () => {
          collect(first)
          return [...seen.values()].find(
            (r) => r.body.seq === 0 && toHex(r.body.author) === status.participant
          )
        })
        const genesis = [...seen.values()].find(
          (r) => r.body.seq === 0 && toHex(r.body.author) === status.participant
        ) as SignedRecord
        const rootIno = (genesis.body.ops[0] as { root: Uint8Array }).root
        await hostile.hangUp(status.participant)
        let names = 0
        const context: Omit<Context, 'session' | 'rng'> = {
          fsId,
          member,
          seen,
          chain: [],
          root: rootIno,
          daemonKey: status.participant,
          daemonHead: Math.max(
            ...[...seen.values()]
              .filter((r) => toHex(r.body.author) === status.participant)
              .map((r) => r.body.seq)
          ),
          nextName: (label) => `${label}-${names++}`
        }
        const memberHeld = async (): Promise<number> =>
          (await a.call<Status>('status')).logs.find((log) => log.author === toHex(member.publicKey))?.held ??
          0
        expect(await memberHeld()).toBe(0)

        const counts: Record<string, number> = {}
        const findings: string[] = []
        let disconnected = 0
        const forkAt = rng.int(params.trials)
        let fork: { kept: SignedRecord; dropped: SignedRecord } | undefined
        for (let trial = 0; trial < params.trials; trial++) {
          const trialRng = rng.fork(trial)
          const session = await hostile.replicate(target, fsId)
          const attack: Attack =
            trial === forkAt
              ? { name: 'a fork (two records with one seq)', expect: 'keep', run: async () => undefined }
              : trialRng.pick(attacks)
          counts[attack.name] = (counts[attack.name] ?? 0) + 1
          const attackContext = { ...context, session, rng: trialRng }
          const heldBefore = context.chain.length
          if (trial === forkAt) {
            const kept = nextMemberRecord(attackContext, 'fork-first')
            const dropped = memberRecord(
              attackContext,
              kept.body.seq,
              kept.body.prev,
              fileOps(attackContext, 'fork-second', 'the other branch')
            )
            await session.sendMessage({ t: 'rec', bytes: kept.bytes })
            context.chain.push(kept)
            await waitFor(
              'the first branch to be stored',
              async () => (await memberHeld()) === context.chain.length
            )
            await session.sendMessage({ t: 'rec', bytes: dropped.bytes })
            fork = { kept, dropped }
            await waitFor('the fork to be reported', async () => (await a.call<Status>('status')).forks === 1)
          } else await attack.run(attackContext)
          if (attack.expect === 'disconnect') {
            try {
              await waitFor('the daemon to disconnect the hostile peer', () => !session.open(), {
                timeoutMs: 10_000
              })
              disconnected++
            } catch {
              findings.push(`trial ${trial}: "${attack.name}" did not get the peer disconnected`)
            }
          }
          if (context.chain.length > heldBefore) {
            await waitFor(
              'the member records to be stored',
              async () => (await memberHeld()) === context.chain.length
            ).catch(() => {
              findings.push(
                `trial ${trial}: "${attack.name}": the daemon did not store the member's valid records`
              )
            })
          }
          const stillOpen = session.open()
          if (attack.expect === 'keep' && !stillOpen)
            findings.push(`trial ${trial}: "${attack.name}" got an honest-looking session cut`)
          collect(session)
          await hostile.hangUp(status.participant)
          // The daemon answers its control socket after every attack, from the same process.
          const after = await a.call<Status>('status')
          if (after.pid !== status.pid) findings.push(`trial ${trial}: the daemon restarted`)
          progress(params, `trial ${trial}: ${attack.name}: ${stillOpen ? 'session kept' : 'disconnected'}`)
        }
        if (fork === undefined) throw new Error('no fork was attempted')

        // Side protocols: blob requests of random chunks, fuzzed blob and join requests, a non-member.
        await fuzzSideProtocols(rng.fork('side'), hostile, outsider, target, fsId, findings)

        // Still serving: the honest daemon replicates both ways, and sees the member's records.
        await a.call('fs.write', { path: '/after-attacks-a', dataBase64: b64('a') })
        await b.call('fs.write', { path: '/after-attacks-b', dataBase64: b64('b') })
        await waitFor(
          'a and b to converge after the attacks',
          async () => {
            const [ha, hb] = await Promise.all([
              a.call<{ treeHash: string; vv: object }>('fs.treeHash'),
              b.call<{ treeHash: string; vv: object }>('fs.treeHash')
            ])
            return ha.treeHash === hb.treeHash && JSON.stringify(ha.vv) === JSON.stringify(hb.vv)
          },
          { timeoutMs: 30_000 }
        )
        const listed = await b.call<string[]>('fs.readdir', { path: '/' })
        expect(listed).toContain('after-attacks-a')
        expect(listed).toContain('fork-first')
        expect(listed).not.toContain('fork-second')
        const final = await a.call<Status>('status')
        expect(final.pid).toBe(status.pid)
        expect(final.forks).toBe(1)
        expect(final.peers.find((p) => p.key === bKey)?.connected).toBe(true)

        // Nothing invalid stored: stop both daemons and walk their stores.
        await a.stop()
        await b.stop()
        const memberIds: string[] = []
        const reportA = await checkStore(a.dataDir, {
          onRecord: (r) =>
            void (toHex(r.body.author) === toHex(member.publicKey) && memberIds.push(toHex(r.id)))
        })
        const reportB = await checkStore(b.dataDir)
        for (const p of [...reportA.problems, ...reportB.problems]) findings.push(`store: ${p}`)
        if (JSON.stringify(memberIds) !== JSON.stringify(context.chain.map((r) => toHex(r.id))))
          findings.push(`the member's log in the store is not exactly the records it validly sent`)
        if (reportA.authors !== 3) findings.push(`the store holds ${reportA.authors} logs, not 3`)
        const log = await readFile(join(a.dataDir, 'daemon.log'), 'utf8')
        for (const bad of ['fatal error', 'failed unexpectedly', 'uncaught'])
          if (log.includes(bad)) findings.push(`the daemon log says "${bad}"`)
        const protocolWarnings = log.split('\n').filter((line) => line.includes('broke the protocol')).length

        reportSummary('hostile-peer', {
          seed: params.seed,
          attacks: params.trials,
          kinds: Object.keys(counts).length,
          'disconnected as expected': disconnected,
          'protocol warnings logged': protocolWarnings,
          'member records stored': memberIds.length,
          'forks reported': final.forks,
          'invalid records stored': reportA.problems.length + reportB.problems.length,
          'daemon restarts': 0,
          findings: findings.length
        })
        expect(findings, findings.join('\n')).toEqual([])
      })
    },
    params.soak ? 0 : 90_000
  )
})
