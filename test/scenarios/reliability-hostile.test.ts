// Reliability: a hostile peer (issue 8). A raw libp2p peer holding a real member's key attacks a
// daemon process with seeded random fuzzed frames, forged signatures, replayed and reordered
// records, oversized messages and one fork. The daemon must keep serving (its control socket and
// an honest second daemon), store nothing invalid, and report the fork.
// Soak: node test/soak/hostile-peer.mjs [trials=300] [seed]
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Stream } from '@libp2p/interface'
import { afterEach, describe, expect, test } from 'vitest'
import {
  FORMAT_VERSION,
  KeyPair,
  RECORD_BYTES_MAX,
  decodeRecord,
  fromHex,
  genesisFsId,
  loadKeyPair,
  signRecord,
  toHex,
  type Op,
  type RecordBody,
  type SignedRecord
} from '@ivyfs/log'
import {
  BLOB_PROTOCOL,
  FRAME_BYTES_MAX,
  JOIN_PROTOCOL,
  REPLICATE_WIRE_VERSION,
  decodeBlobResponse,
  encodeBlobRequest,
  encodeFrame,
  encodeJoinRequest,
  encodeReplicateMessage,
  writeFrame
} from '@ivyfs/net'
import { DaemonProcess, freePort } from '../helpers/daemon-process.js'
import { HostilePeer, readFrames, type RawSession } from '../helpers/hostile-peer.js'
import { flipBit } from '../helpers/fuzz.js'
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

/** What an attack expects of the daemon: cut us off, keep the session, or either (fuzz). */
type Expect = 'disconnect' | 'keep' | 'any'

interface Context {
  rng: Prng
  session: RawSession
  fsId: Uint8Array
  member: KeyPair
  /** Records the daemon sent us so far (its own and forwarded ones), by id. */
  seen: Map<string, SignedRecord>
  /** The member's records the daemon accepted, in seq order. */
  chain: SignedRecord[]
  root: Uint8Array
  daemonKey: string
  /** Highest seq of the daemon's own log when the member started writing. */
  daemonHead: number
  nextName(label: string): string
}

interface Attack {
  name: string
  expect: Expect
  run(context: Context): Promise<void>
}

function memberRecord(
  context: Context,
  seq: number,
  prev: Uint8Array | null,
  ops: Op[],
  timeMs = Date.now()
): SignedRecord {
  const body: RecordBody = {
    version: FORMAT_VERSION,
    fsId: context.fsId,
    author: context.member.publicKey,
    seq,
    prev,
    // The first record covers the daemon's log as the member saw it (its admission included);
    // later ones change nothing.
    vv: seq === 0 ? [{ author: fromHex(context.daemonKey), seq: context.daemonHead }] : [],
    timeMs,
    ops
  }
  return signRecord(context.member, body)
}

function fileOps(context: Context, name: string, content: string): Op[] {
  const ino = new Uint8Array(randomBytes(16))
  const data = new TextEncoder().encode(content)
  return [
    { type: 'inode', ino, kind: 'file', mode: 0o644, uid: 0, gid: 0 },
    { type: 'write', ino, offset: 0, length: data.byteLength, inline: data },
    { type: 'link', dir: context.root, name, ino }
  ]
}

function nextMemberRecord(
  context: Context,
  name: string,
  offset = 0,
  prevOverride?: Uint8Array
): SignedRecord {
  const seq = context.chain.length + offset
  const prev = prevOverride ?? context.chain[context.chain.length - 1]?.id ?? null
  return memberRecord(context, seq, prev, fileOps(context, name, `${name} from the hostile member`))
}

function mutate(rng: Prng, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes)
  const how = rng.int(4)
  if (how === 0 || out.byteLength < 4) {
    for (let i = 0; i < rng.between(1, 4); i++) flipBit(rng, out, rng.int(out.byteLength))
    return out
  }
  if (how === 1) return out.slice(0, rng.int(out.byteLength))
  if (how === 2) return new Uint8Array([...out, ...rng.bytes(rng.between(1, 16))])
  const at = rng.int(out.byteLength)
  return new Uint8Array([...out.slice(0, at), ...rng.bytes(rng.between(1, 8)), ...out.slice(at + 1)])
}

const attacks: Attack[] = [
  {
    name: 'garbage frame',
    expect: 'disconnect',
    run: async ({ rng, session }) => await session.send(rng.bytes(rng.between(1, 4000)))
  },
  {
    name: 'garbage bytes without framing',
    expect: 'any',
    run: async ({ rng, session }) => session.sendRaw(rng.bytes(rng.between(1, 200)))
  },
  {
    name: 'mutated valid message',
    expect: 'any',
    run: async (context) => {
      const { rng, session, seen } = context
      const known = [...seen.values()]
      const choices: Uint8Array[] = [
        encodeReplicateMessage({ t: 'have', vv: new Map([[context.daemonKey, 1]]), reset: false }),
        encodeReplicateMessage({ t: 'rec', bytes: (known[rng.int(known.length)] as SignedRecord).bytes }),
        encodeReplicateMessage({
          t: 'rec',
          bytes: nextMemberRecord(context, context.nextName('mutant')).bytes
        }),
        encodeReplicateMessage({ t: 'chunk', id: new Uint8Array(32), bytes: rng.bytes(100) })
      ]
      await session.send(mutate(rng, rng.pick(choices)))
    }
  },
  {
    name: 'oversized frame header',
    expect: 'disconnect',
    run: async ({ rng, session }) => {
      const header = new Uint8Array(4)
      new DataView(header.buffer).setUint32(0, FRAME_BYTES_MAX + 1 + rng.int(1 << 30))
      session.sendRaw(header)
    }
  },
  {
    name: 'oversized record in a frame that fits',
    expect: 'disconnect',
    run: async ({ rng, session }) =>
      await session.sendMessage({ t: 'rec', bytes: rng.bytes(RECORD_BYTES_MAX + 1 + rng.int(1000)) })
  },
  {
    name: 'empty frame',
    expect: 'disconnect',
    run: async ({ session }) => session.sendRaw(new Uint8Array(4))
  },
  {
    name: "a record forged in the daemon's name",
    expect: 'disconnect',
    run: async (context) => {
      const own = [...context.seen.values()].filter((r) => toHex(r.body.author) === context.daemonKey)
      const head = own.sort((x, y) => y.body.seq - x.body.seq)[0] as SignedRecord
      // The member signs a body that names the daemon as its author.
      const forged = signRecord(context.member, {
        ...head.body,
        seq: head.body.seq + 1,
        prev: head.id,
        vv: [],
        timeMs: Date.now(),
        ops: fileOps(context, context.nextName('forged'), 'forged')
      })
      await context.session.sendMessage({ t: 'rec', bytes: forged.bytes })
    }
  },
  {
    name: 'a member record with a broken signature',
    expect: 'disconnect',
    run: async (context) => {
      const bytes = new Uint8Array(nextMemberRecord(context, context.nextName('badsig')).bytes)
      // The signature is the last 64 bytes of the record's encoding.
      flipBit(context.rng, bytes, bytes.byteLength - 1 - context.rng.int(64))
      await context.session.sendMessage({ t: 'rec', bytes })
    }
  },
  {
    name: 'a record of another filesystem',
    expect: 'disconnect',
    run: async (context) => {
      const descriptor = {
        creator: context.member.publicKey,
        timeMs: 1,
        nonce: context.rng.bytes(16),
        lockMode: 'strict' as const
      }
      const root = context.rng.bytes(16)
      const other = signRecord(context.member, {
        version: FORMAT_VERSION,
        fsId: genesisFsId(descriptor),
        author: context.member.publicKey,
        seq: 0,
        prev: null,
        vv: [],
        timeMs: 1,
        ops: [
          { type: 'genesis', descriptor, root },
          { type: 'inode', ino: root, kind: 'dir', mode: 0o755, uid: 0, gid: 0 }
        ]
      })
      await context.session.sendMessage({ t: 'rec', bytes: other.bytes })
    }
  },
  {
    name: 'replayed records',
    expect: 'keep',
    run: async ({ rng, session, seen }) => {
      const known = [...seen.values()]
      for (const record of rng.sample(known, rng.between(1, Math.min(20, known.length))))
        await session.sendMessage({ t: 'rec', bytes: record.bytes })
    }
  },
  {
    name: 'reordered member records',
    expect: 'keep',
    run: async (context) => {
      const first = nextMemberRecord(context, context.nextName('reordered'))
      const second = memberRecord(
        context,
        first.body.seq + 1,
        first.id,
        fileOps(context, context.nextName('reordered'), 'second')
      )
      await context.session.sendMessage({ t: 'rec', bytes: second.bytes })
      await context.session.sendMessage({ t: 'rec', bytes: first.bytes })
      context.chain.push(first, second)
    }
  },
  {
    name: 'a valid member record',
    expect: 'keep',
    run: async (context) => {
      const record = nextMemberRecord(context, context.nextName('valid'))
      await context.session.sendMessage({ t: 'rec', bytes: record.bytes })
      context.chain.push(record)
    }
  },
  {
    name: 'a chunk that does not hash to its id',
    expect: 'disconnect',
    run: async ({ rng, session }) => {
      const bytes = rng.bytes(rng.between(1, 65536))
      const id = createHash('sha256').update(bytes).digest()
      id[0] = (id[0] as number) ^ 1
      await session.sendMessage({ t: 'chunk', id: new Uint8Array(id), bytes })
    }
  },
  {
    name: 'a second hello',
    expect: 'disconnect',
    run: async ({ session, fsId }) =>
      await session.sendMessage({ t: 'hello', version: REPLICATE_WIRE_VERSION, fsId, vv: new Map() })
  },
  {
    name: 'a flood of resync requests',
    expect: 'any',
    run: async ({ session }) => {
      for (let i = 0; i < 5; i++) await session.sendMessage({ t: 'have', vv: new Map(), reset: true })
    }
  }
]

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

/** The first `count` frames the daemon sends on `stream` (fewer if it ends or `timeoutMs` passes). */
async function firstFrames(stream: Stream, count: number, timeoutMs: number): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = []
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs)
    void readFrames(stream, (frame) => {
      frames.push(frame)
      if (frames.length >= count) resolve()
    }).then(() => resolve())
    void timer
  })
  await stream.close().catch(() => stream.abort(new Error('done')))
  return frames
}

/** Blob and join protocols, and a non-member: every answer is an answer, never a crash. */
async function fuzzSideProtocols(
  rng: Prng,
  hostile: HostilePeer,
  outsider: HostilePeer,
  target: string,
  fsId: Uint8Array,
  findings: string[]
): Promise<void> {
  // A member asking for chunks nobody has gets `missing` for each.
  const chunks = Array.from({ length: rng.between(1, 64) }, () => ({
    id: rng.bytes(32),
    length: rng.between(1, 65536)
  }))
  const { stream } = await hostile.dial(target, BLOB_PROTOCOL)
  await writeFrame(stream, encodeBlobRequest({ t: 'get', chunks }))
  const answers = await firstFrames(stream, chunks.length, 10_000)
  const missing = answers.filter((frame) => decodeBlobResponse(frame).t === 'missing').length
  if (missing !== chunks.length)
    findings.push(`blob: ${chunks.length} unknown chunks asked, ${missing} answered missing`)
  // Fuzzed blob requests (from the member) and join requests (from an outsider): refused or aborted, nothing more.
  for (let i = 0; i < 8; i++) {
    const blob = await hostile.dial(target, BLOB_PROTOCOL)
    const valid = encodeBlobRequest({ t: 'get', chunks: [{ id: rng.bytes(32), length: 100 }] })
    blob.stream.send(encodeFrame(rng.chance(0.5) ? rng.bytes(rng.between(1, 300)) : mutate(rng, valid)))
    await firstFrames(blob.stream, 1, 10_000)
    const join_ = await outsider.dial(target, JOIN_PROTOCOL)
    const request = encodeJoinRequest({ t: 'join', fsId, ticketId: rng.bytes(16), proof: rng.bytes(32) })
    join_.stream.send(encodeFrame(rng.chance(0.5) ? request : mutate(rng, request)))
    await firstFrames(join_.stream, 1, 15_000)
  }
  // A non-member's replication is refused with a bye.
  const session = await outsider.replicate(target, fsId)
  const reason = await Promise.race([
    session.ended,
    new Promise<string>((resolve) => setTimeout(() => resolve('still open after 10 s'), 10_000))
  ])
  if (!session.received.some((m) => m.t === 'bye'))
    findings.push(`a non-member's session was not refused with a bye (${reason})`)
}
