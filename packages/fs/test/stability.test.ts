import { createHash } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import type { Op, VersionEntry } from '@ivyfs/log'
import { View, conflictIndexHash, treeHash, type ViewRecord } from '../src/index.js'
import { safeFrontier } from '../src/stability.js'
import { SAFE_BY, SAFE_REC } from '../src/state.js'
import { keyFor } from './helpers/sim.js'

const a = keyFor('stability-a').publicKey
const b = keyFor('stability-b').publicKey
const root = new Uint8Array(16).fill(1)
const file = new Uint8Array(16).fill(2)

function record(author: Uint8Array, seq: number, vv: VersionEntry[], ops: Op[]): ViewRecord {
  const id = new Uint8Array(createHash('sha256').update(author).update(String(seq)).digest())
  return { id, body: { author, seq, vv, timeMs: 1000 + seq, ops } }
}

const genesis = record(
  a,
  0,
  [],
  [
    {
      type: 'genesis',
      descriptor: { creator: a, timeMs: 0, nonce: new Uint8Array(16), lockMode: 'available' },
      root
    },
    { type: 'inode', ino: root, kind: 'dir', mode: 0o755, uid: 0, gid: 0 },
    { type: 'member', action: 'add', key: b },
    { type: 'inode', ino: file, kind: 'file', mode: 0o644, uid: 0, gid: 0 },
    { type: 'link', dir: root, name: 'f', ino: file },
    { type: 'write', ino: file, offset: 0, length: 3, inline: new Uint8Array([1, 2, 3]) }
  ]
)

describe('safe records and compaction', () => {
  test('the safe frontier stops below what a tentative record has not seen', () => {
    // Goal: a record every member's newest record covers may still be unseen by an older
    // tentative record; it is not safe until that record is stable too.
    const frontier = new Map([
      ['a', 5],
      ['b', 7]
    ])
    const tentative = [
      { rec: { author: 'b', seq: 6, id: '', timeMs: 0 }, fullVv: new Map([['a', 2]]) },
      { rec: { author: 'a', seq: 6, id: '', timeMs: 0 }, fullVv: new Map([['b', 7]]) }
    ]
    expect([...safeFrontier(frontier, tentative)]).toEqual([
      ['a', 2],
      ['b', 5]
    ])
    expect([...safeFrontier(undefined, tentative)]).toEqual([])
  })

  test('compaction replaces safe writers and drops the content before a safe change', () => {
    // Goal: after both members have seen the genesis, its writes need no identity any more.
    const view = new View()
    view.ingestMany([genesis, record(b, 0, [{ author: a, seq: 0 }], [{ type: 'ack' }])])
    view.ingest(record(a, 1, [{ author: b, seq: 0 }], [{ type: 'ack' }]))
    view.advanceStable()
    const hash = treeHash(view.state)
    const inode = view.state.inodes.get(Buffer.from(file).toString('hex'))
    expect(inode?.dataBefore).toBeDefined()
    view.compact()
    expect(inode?.dataBefore).toBeUndefined()
    expect(inode?.dataBy).toBe(SAFE_BY)
    expect(inode?.extents[0]?.by).toBe(SAFE_REC)
    expect(inode?.attrBy.size).toEqual([]) // nobody set the size: stays empty (see below)
    expect(treeHash(view.state)).toBe(hash)
  })

  test('a writer list nobody joined stays empty, so a later join keeps its conflicts', () => {
    // Goal: [] and [safe] differ once a record joins with the same value: [r] can conflict with
    // a record concurrent with r, [safe, r] never. Compaction must not turn [] into [safe].
    const history = (compactAt: number | undefined): View => {
      const records = [
        genesis,
        record(b, 0, [{ author: a, seq: 0 }], [{ type: 'ack' }]),
        record(a, 1, [{ author: b, seq: 0 }], [{ type: 'ack' }]),
        // size 3 again: joins the (empty) size writers
        record(a, 2, [], [{ type: 'setattrs', ino: file, size: 3 }]),
        record(b, 1, [{ author: a, seq: 1 }], [{ type: 'ack' }]),
        // concurrent with a#2, sorts after it
        record(b, 2, [], [{ type: 'setattrs', ino: file, size: 5 }])
      ]
      const view = new View()
      records.forEach((r, i) => {
        view.ingest(r)
        if (i !== compactAt) return
        view.advanceStable()
        view.compact()
      })
      return view
    }
    const plain = history(undefined)
    const compacted = history(2)
    expect(plain.state.conflicts.size).toBe(1)
    expect(conflictIndexHash(compacted.state)).toBe(conflictIndexHash(plain.state))
    expect(treeHash(compacted.state)).toBe(treeHash(plain.state))
  })

  test('a tombstone only safe records wrote is dropped, and acts the same as one kept', () => {
    // Goal: a removed name seen by everyone is a missing name: same tree, same errno and reason.
    const history = (compact: boolean): View => {
      const view = new View()
      view.ingest(genesis)
      view.ingest(record(a, 1, [], [{ type: 'unlink', dir: root, name: 'f' }]))
      view.ingest(record(b, 0, [{ author: a, seq: 1 }], [{ type: 'ack' }]))
      view.ingest(record(a, 2, [{ author: b, seq: 0 }], [{ type: 'ack' }]))
      if (compact) {
        view.advanceStable()
        view.compact()
        expect(view.state.inodes.get(Buffer.from(root).toString('hex'))?.entries?.has('f')).toBe(false)
      }
      view.ingest(record(a, 3, [], [{ type: 'unlink', dir: root, name: 'f' }]))
      view.ingest(record(a, 4, [], [{ type: 'rename', dir: root, name: 'f', newDir: root, newName: 'g' }]))
      view.ingest(record(a, 5, [], [{ type: 'link', dir: root, name: 'f', ino: file }]))
      return view
    }
    const kept = history(false)
    const dropped = history(true)
    const reasons = (view: View): string[] =>
      view.state.rejections.map((r) => `${r.seq} ${r.errno} ${r.reason}`)
    expect(reasons(dropped)).toEqual(reasons(kept))
    expect(reasons(kept)).toEqual(['3 ENOENT name does not exist', '4 ENOENT name does not exist'])
    expect(treeHash(dropped.state)).toBe(treeHash(kept.state))
  })
})
