import { createHash } from 'node:crypto'
import type { ConflictDetail } from '@ivyfs/daemon'
import { beforeAll, describe, expect, test } from 'vitest'
import { formatConflictDetail, formatConflictList, versionWords } from '../src/conflict-format.js'

const A = 'a1'.repeat(32)
const B = 'b2'.repeat(32)
const content = (bytes: Buffer) => ({
  size: bytes.length,
  sha256: createHash('sha256').update(bytes).digest('hex'),
  contentBase64: bytes.toString('base64'),
  truncated: false
})

function detail(over: Partial<ConflictDetail> = {}): ConflictDetail {
  return {
    id: 'c0ffee'.repeat(10) + 'abcd',
    kind: 'data',
    item: 'data:1234',
    paths: ['/notes.txt'],
    currentPath: '/notes.txt',
    winner: {
      record: 'e1'.repeat(32),
      author: A,
      seq: 7,
      timeMs: Date.parse('2026-11-22T10:00:00Z'),
      version: { type: 'data', ino: '1234', size: 14 }
    },
    loser: {
      record: 'f2'.repeat(32),
      author: B,
      seq: 3,
      timeMs: Date.parse('2026-11-22T10:00:05Z'),
      version: { type: 'data', ino: '1234', size: 14 }
    },
    base: { type: 'data', ino: '1234', size: 14 },
    resolved: false,
    resolvedBy: undefined,
    resolution: undefined,
    content: {
      winner: content(Buffer.from('one\nAAA\nthree\n')),
      loser: content(Buffer.from('one\nCCC\nthree\n')),
      base: content(Buffer.from('one\ntwo\nthree\n'))
    },
    commonPast: { [A]: 5, [B]: 2 },
    records: [
      {
        role: 'ours',
        record: 'e1'.repeat(32),
        author: A,
        seq: 7,
        timeMs: 0,
        ops: [{ type: 'write', text: 'write /notes.txt [0, 14)' }]
      },
      {
        role: 'theirs',
        record: 'f2'.repeat(32),
        author: B,
        seq: 3,
        timeMs: 0,
        ops: [{ type: 'write', text: 'write /notes.txt [0, 14)' }]
      }
    ],
    ...over
  }
}

beforeAll(() => {
  process.env['NO_COLOR'] = '1'
})

describe('conflicts in words', () => {
  test('show: both sides, the state before, the common past, the records and a diff of text', () => {
    // Goal: everything `ivy conflicts show` promises is in the text, ours (shown) and theirs (hidden) named.
    const text = formatConflictDetail(detail())
    expect(text).toContain(`conflict  ${'c0ffee'.repeat(10)}abcd  open`)
    expect(text).toMatch(/^kind {6}data: the same bytes were written on both sides$/m)
    expect(text).toMatch(new RegExp(`^ours {6}${A.slice(0, 12)} #7 .*14 B  \\(what the tree shows\\)$`, 'm'))
    expect(text).toMatch(new RegExp(`^theirs {4}${B.slice(0, 12)} #3 .*\\(hidden, still readable\\)$`, 'm'))
    expect(text).toMatch(/^before {4}14 B$/m)
    expect(text).toContain(
      `9 records both sides had seen: ${A.slice(0, 12)} up to #5, ${B.slice(0, 12)} up to #2`
    )
    expect(text).toContain(`  ours       ${'e1'.repeat(6)}  by ${A.slice(0, 12)} #7`)
    expect(text).toContain('      write /notes.txt [0, 14)')
    expect(text).toContain('--- ours\n+++ theirs\n@@ -1,3 +1,3 @@\n one\n-AAA\n+CCC\n three')
    expect(text).toMatch(/^ {2}base {4}14 B {6}sha256 [0-9a-f]{64}$/m)
    expect(text).toContain('resolve: ivy resolve c0ffeec0ffee --keep ours')
  })

  test('show: binary versions get sizes and SHA-256, not a diff', () => {
    // Goal: binaries are compared by hash.
    const binary = detail({
      content: { winner: content(Buffer.from([0, 1, 2])), loser: content(Buffer.from([0, 1, 3, 4])) }
    })
    const text = formatConflictDetail(binary)
    expect(text).toContain(
      `  ours    3 B       sha256 ${createHash('sha256')
        .update(Buffer.from([0, 1, 2]))
        .digest('hex')}`
    )
    expect(text).toContain('  theirs  4 B ')
    expect(text).not.toContain('--- ours')
    expect(text).toContain('--side ours|theirs|base')
  })

  test('show: a resolved conflict names its resolution and offers no resolve hint', () => {
    // Goal: after ivy resolve, show says who closed it and what was kept.
    const text = formatConflictDetail(
      detail({
        resolved: true,
        resolvedBy: { record: 'ab'.repeat(32), author: B, seq: 9, timeMs: 0 },
        resolution: 'f2'.repeat(32)
      })
    )
    expect(text).toMatch(new RegExp(`^resolved  by ${B.slice(0, 12)} #9 .*, keeping theirs$`, 'm'))
    expect(text).not.toContain('resolve: ivy resolve')
  })

  test('the list has one block per conflict with ours and theirs', () => {
    // Goal: `ivy conflicts` shows id, kind, path and both sides (author, seq, time, summary).
    const text = formatConflictList([
      detail(),
      detail({
        id: 'dd'.repeat(32),
        kind: 'attr',
        paths: ['/x'],
        winner: { ...detail().winner, version: { type: 'attr', ino: '1', attr: 'mode', value: 0o640 } }
      })
    ])
    expect(text).toContain(`c0ffeec0ffee  data  /notes.txt  open`)
    expect(text).toMatch(
      new RegExp(`^ {4}ours {4}${A.slice(0, 12)} #7 +2026-11-22 10:00:00Z  14 B  \\(shown\\)$`, 'm')
    )
    expect(text).toMatch(
      new RegExp(`^ {4}theirs {2}${B.slice(0, 12)} #3 +2026-11-22 10:00:05Z  14 B  \\(hidden\\)$`, 'm')
    )
    expect(text).toContain('mode 0640')
    expect(text).toContain('2 open · ivy conflicts show ID')
    expect(formatConflictList([])).toBe('no open conflicts')
  })

  test('versions in words for every kind', () => {
    // Goal: each side is summarised in a few words.
    expect(versionWords({ type: 'entry', ino: null })).toBe('name removed')
    expect(versionWords({ type: 'entry', ino: 'abcdef0123', size: 2048 })).toBe(
      'name → inode abcdef01, 2.0 KiB'
    )
    expect(versionWords({ type: 'inode', ino: 'x', removed: true })).toBe('removed it')
    expect(versionWords({ type: 'inode', ino: 'x', removed: false, size: 10 })).toBe('kept it, 10 B')
    expect(versionWords({ type: 'rename', ino: 'x', applied: false })).toBe('rename dropped')
    expect(versionWords({ type: 'attr', ino: 'x', attr: 'uid', value: 1000 })).toBe('uid 1000')
  })
})
