import { describe, expect, test } from 'vitest'
import { UsageError } from '../src/exit-codes.js'
import {
  durationMs,
  parseConflictId,
  parseFsPath,
  parseKeep,
  parsePositiveInt,
  parseSince,
  parseTimeout,
  parseTtl
} from '../src/parse.js'

const NOW = Date.parse('2026-11-22T12:00:00Z')

describe('option parsing', () => {
  test('--since takes a duration back from now or an ISO date or time', () => {
    // Goal: `ivy log --since` accepts what people type and nothing ambiguous.
    expect(parseSince('30m', NOW)).toBe(NOW - 30 * 60_000)
    expect(parseSince('2h', NOW)).toBe(NOW - 2 * 3_600_000)
    expect(parseSince('3d', NOW)).toBe(NOW - 3 * 86_400_000)
    expect(parseSince('45s', NOW)).toBe(NOW - 45_000)
    expect(parseSince('2026-11-01', NOW)).toBe(Date.parse('2026-11-01'))
    expect(parseSince('2026-11-01T10:00Z', NOW)).toBe(Date.parse('2026-11-01T10:00Z'))
    for (const bad of ['yesterday', '5', '2h ago', '', '-1h', '11/01/2026']) {
      expect(() => parseSince(bad, NOW), bad).toThrow(UsageError)
    }
  })

  test('durations, timeouts and counts', () => {
    // Goal: each option value is checked at the edge with a message naming the option.
    expect(durationMs('90')).toBe(90_000)
    expect(durationMs('12h')).toBe(12 * 3_600_000)
    expect(durationMs('soon')).toBeUndefined()
    expect(parseTtl('7d')).toBe(7 * 86_400_000)
    expect(() => parseTtl('0')).toThrow(/--ttl/)
    expect(parseTimeout('1.5')).toBe(1500)
    expect(() => parseTimeout('0')).toThrow(/--timeout/)
    expect(() => parseTimeout('')).toThrow(/--timeout/)
    expect(parsePositiveInt('--limit', '25')).toBe(25)
    for (const bad of ['0', '-3', '2.5', 'ten', ''])
      expect(() => parsePositiveInt('--limit', bad)).toThrow(/--limit/)
  })

  test('--keep, conflict ids and fs paths', () => {
    // Goal: resolve and show refuse malformed ids before asking the daemon.
    expect(parseKeep('ours')).toBe('ours')
    expect(parseKeep('THEIRS')).toBe('theirs')
    expect(parseKeep('ABCD12')).toBe('abcd12')
    expect(() => parseKeep('abc')).toThrow(UsageError)
    expect(() => parseKeep('both')).toThrow(UsageError)
    expect(parseConflictId('3FA1C2')).toBe('3fa1c2')
    expect(() => parseConflictId('3fa')).toThrow(/not a conflict id/)
    expect(() => parseConflictId('a'.repeat(65))).toThrow(/not a conflict id/)
    expect(parseFsPath('/docs/')).toBe('/docs')
    expect(parseFsPath('/')).toBe('/')
    expect(() => parseFsPath('docs')).toThrow(/start with \//)
  })
})
