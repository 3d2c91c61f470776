import { describe, expect, test } from 'vitest'
import { UndoLog } from '../src/undo.js'

describe('undo log', () => {
  test('rollback restores fields and map entries in reverse order', () => {
    // Goal: a tentative record can be unapplied exactly.
    const target = { a: 1, b: 'x' }
    const map = new Map([['k', 1]])
    const undo = new UndoLog()
    undo.set(target, 'a', 2)
    undo.set(target, 'a', 3)
    undo.mapSet(map, 'k', 5)
    undo.mapSet(map, 'n', 6)
    undo.mapDelete(map, 'k')
    undo.rollback()
    expect(target).toEqual({ a: 1, b: 'x' })
    expect([...map]).toEqual([['k', 1]])
  })
})
