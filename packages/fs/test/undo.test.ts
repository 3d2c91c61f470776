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

  test('one log serves a suffix of records: roll back from a position, forget stable ones', () => {
    // Goal: the view's single log unapplies exactly the records from a position on, and
    // positions stay valid after the forgotten steps at its front are compacted away.
    const target = { n: 0 }
    const undo = new UndoLog()
    const positions: number[] = []
    for (let i = 1; i <= 5000; i++) {
      positions.push(undo.position)
      undo.set(target, 'n', i)
    }
    undo.discardBefore(positions[4000] as number)
    expect(undo.size).toBe(1000)
    undo.rollbackTo(positions[4500] as number)
    expect(target.n).toBe(4500)
    expect(undo.position).toBe(positions[4500])
    undo.rollbackTo(positions[10] as number) // before the forgotten steps: stops at them
    expect(target.n).toBe(4000)
    expect(undo.size).toBe(0)
  })
})
