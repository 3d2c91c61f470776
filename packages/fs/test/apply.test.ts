import { describe, expect, test } from 'vitest'
import type { Op } from '@ivyfs/log'
import { View, conflictIndexHash, treeHash, type ViewRecord } from '../src/index.js'
import { keyFor } from './helpers/sim.js'
import { rngFor, shuffle } from './helpers/workload.js'

const author = keyFor('bad-input').publicKey
const root = new Uint8Array(16).fill(1)
const file = new Uint8Array(16).fill(2)
const dir = new Uint8Array(16).fill(3)

function record(seq: number, ops: Op[]): ViewRecord {
  return { id: new Uint8Array(32).fill(seq + 1), body: { author, seq, vv: [], timeMs: seq, ops } }
}

const genesis: Op[] = [
  {
    type: 'genesis',
    descriptor: { creator: author, timeMs: 0, nonce: new Uint8Array(16), lockMode: 'strict' },
    root
  },
  { type: 'inode', ino: root, kind: 'dir', mode: 0o755, uid: 0, gid: 0 },
  { type: 'inode', ino: file, kind: 'file', mode: 0o644, uid: 0, gid: 0 },
  { type: 'link', dir: root, name: 'f', ino: file },
  { type: 'inode', ino: dir, kind: 'dir', mode: 0o755, uid: 0, gid: 0 },
  { type: 'link', dir: root, name: 'd', ino: dir }
]

const badOps: [string, Op][] = [
  [
    'write to an unknown inode',
    { type: 'write', ino: new Uint8Array(16).fill(9), offset: 0, length: 1, inline: new Uint8Array(1) }
  ],
  ['write to a directory', { type: 'write', ino: dir, offset: 0, length: 1, inline: new Uint8Array(1) }],
  ['negative offset', { type: 'write', ino: file, offset: -5, length: 1, inline: new Uint8Array(1) }],
  ['absurd offset', { type: 'write', ino: file, offset: 2 ** 60, length: 1, inline: new Uint8Array(1) }],
  ['inline length mismatch', { type: 'write', ino: file, offset: 0, length: 5, inline: new Uint8Array(1) }],
  ['absurd size', { type: 'setattrs', ino: file, size: 2 ** 55 }],
  ['link into a file', { type: 'link', dir: file, name: 'x', ino: file }],
  ['link of an unknown inode', { type: 'link', dir: root, name: 'x', ino: new Uint8Array(16).fill(8) }],
  ['second link of a directory', { type: 'link', dir: root, name: 'd2', ino: dir }],
  ['link a directory below itself', { type: 'link', dir: dir, name: 'loop', ino: root }],
  ['bad name', { type: 'link', dir: root, name: 'a/b', ino: file }],
  ['unlink of a missing name', { type: 'unlink', dir: root, name: 'nope' }],
  ['rename of a missing name', { type: 'rename', dir: root, name: 'nope', newDir: root, newName: 'x' }],
  ['rename a directory into itself', { type: 'rename', dir: root, name: 'd', newDir: dir, newName: 'd' }],
  ['rename a file over a directory', { type: 'rename', dir: root, name: 'f', newDir: root, newName: 'd' }],
  ['reused inode number', { type: 'inode', ino: file, kind: 'file', mode: 0, uid: 0, gid: 0 }],
  [
    'a device node without an rdev',
    { type: 'inode', ino: new Uint8Array(16).fill(7), kind: 'chardev', mode: 0, uid: 0, gid: 0 }
  ],
  [
    'an rdev on a fifo',
    { type: 'inode', ino: new Uint8Array(16).fill(7), kind: 'fifo', mode: 0, uid: 0, gid: 0, rdev: 1 }
  ],
  [
    'an rdev out of range',
    {
      type: 'inode',
      ino: new Uint8Array(16).fill(7),
      kind: 'blockdev',
      mode: 0,
      uid: 0,
      gid: 0,
      rdev: 2 ** 32
    }
  ],
  ['exchange with a missing name', { type: 'exchange', dir: root, name: 'f', newDir: root, newName: 'nope' }],
  ['exchange in a file', { type: 'exchange', dir: file, name: 'f', newDir: root, newName: 'd' }],
  ['exchange to a bad name', { type: 'exchange', dir: root, name: 'f', newDir: root, newName: 'a/b' }],
  ['second genesis', genesis[0] as Op],
  [
    'resolve of an unknown conflict',
    { type: 'resolve', conflict: new Uint8Array(32), choice: new Uint8Array(0) }
  ],
  ['malformed op', { type: 'write' } as unknown as Op]
]

describe('bad input is a deterministic no-op with a reason', () => {
  test.each(badOps)('%s', (_, op) => {
    // Goal: the merge never stops; the op changes nothing and says why.
    const view = new View()
    view.ingest(record(0, genesis))
    const before = treeHash(view.state)
    expect(() => view.ingest(record(1, [op]))).not.toThrow()
    expect(treeHash(view.state)).toBe(before)
    const rejection = view.state.rejections.at(-1)
    expect(rejection?.seq).toBe(1)
    expect(rejection?.errno).toMatch(/^E[A-Z]+$/)
  })

  test('the same records give the same result in any arrival order', () => {
    // Goal: bad input is handled identically on every peer.
    const records = [record(0, genesis), ...badOps.map(([, op], i) => record(i + 1, [op]))]
    const first = new View()
    first.ingestMany(records)
    for (let seed = 0; seed < 5; seed++) {
      const view = new View()
      for (const r of shuffle(rngFor(seed), [...records])) view.ingest(r)
      expect(treeHash(view.state)).toBe(treeHash(first.state))
      expect(conflictIndexHash(view.state)).toBe(conflictIndexHash(first.state))
    }
  })

  test('records before the genesis and from non-members are skipped', () => {
    // Goal: membership is part of the merge.
    const view = new View()
    const stranger = keyFor('stranger').publicKey
    view.ingest({
      id: new Uint8Array(32).fill(99),
      body: { author: stranger, seq: 0, vv: [], timeMs: 0, ops: genesis.slice(2) }
    })
    expect(view.state.rejections.at(-1)?.reason).toBe('record before genesis')
    view.ingest(record(0, genesis))
    view.ingest({
      id: new Uint8Array(32).fill(98),
      body: { author: stranger, seq: 1, vv: [{ author, seq: 0 }], timeMs: 0, ops: [] }
    })
    expect(view.state.rejections.at(-1)?.reason).toBe('author is not a member')
  })
})
