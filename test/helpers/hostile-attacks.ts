/**
 * The hostile member's repertoire for reliability-hostile.test.ts: what one attack knows (the
 * session, the member's key and chain, the records the daemon sent), how it builds valid, forged
 * and mutated records, and the catalogue of attacks on /ivyfs/replicate/1, each with what it
 * expects of the daemon (cut the peer off, keep the session, or either).
 */
import { createHash, randomBytes } from 'node:crypto'
import {
  FORMAT_VERSION,
  RECORD_BYTES_MAX,
  fromHex,
  genesisFsId,
  signRecord,
  toHex,
  type KeyPair,
  type Op,
  type RecordBody,
  type SignedRecord
} from '@ivyfs/log'
import { FRAME_BYTES_MAX, REPLICATE_WIRE_VERSION, encodeReplicateMessage } from '@ivyfs/net'
import { flipBit } from './fuzz.js'
import type { RawSession } from './hostile-peer.js'
import type { Prng } from './soak.js'

/** What an attack expects of the daemon: cut us off, keep the session, or either (fuzz). */
export type Expect = 'disconnect' | 'keep' | 'any'

export interface Context {
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

export interface Attack {
  name: string
  expect: Expect
  run(context: Context): Promise<void>
}

export function memberRecord(
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

export function fileOps(context: Context, name: string, content: string): Op[] {
  const ino = new Uint8Array(randomBytes(16))
  const data = new TextEncoder().encode(content)
  return [
    { type: 'inode', ino, kind: 'file', mode: 0o644, uid: 0, gid: 0 },
    { type: 'write', ino, offset: 0, length: data.byteLength, inline: data },
    { type: 'link', dir: context.root, name, ino }
  ]
}

export function nextMemberRecord(
  context: Context,
  name: string,
  offset = 0,
  prevOverride?: Uint8Array
): SignedRecord {
  const seq = context.chain.length + offset
  const prev = prevOverride ?? context.chain[context.chain.length - 1]?.id ?? null
  return memberRecord(context, seq, prev, fileOps(context, name, `${name} from the hostile member`))
}

export function mutate(rng: Prng, bytes: Uint8Array): Uint8Array {
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

export const attacks: Attack[] = [
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
