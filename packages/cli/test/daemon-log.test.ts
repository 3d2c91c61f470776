import { describe, expect, test } from 'vitest'
import { joinStage, logLineText, parseLogLine } from '../src/daemon-log.js'

const line = (fields: object): string =>
  JSON.stringify({ time: '2026-11-22T00:00:00.000Z', level: 'info', component: 'ivyfs/net', ...fields })

describe('reading the daemon log of init and join', () => {
  test('JSON log lines are parsed; anything else is left alone', () => {
    // Goal: a stack trace or a plain message from the entry point is printed as it is.
    expect(parseLogLine(line({ message: 'network started', peer: 'ab' }))).toEqual({
      level: 'info',
      component: 'ivyfs/net',
      message: 'network started',
      fields: { peer: 'ab' }
    })
    expect(parseLogLine('ivyfs: the ticket has expired')).toBeUndefined()
    expect(parseLogLine('[1,2]')).toBeUndefined()
    expect(parseLogLine('{"level":3}')).toBeUndefined()
  })

  test("the join stages follow the messages of setup and membership, with the inviter's record count", () => {
    // Goal: the progress line names what join is waiting for.
    const stage = (fields: object) => joinStage(parseLogLine(line(fields))!)
    expect(stage({ message: 'joining' })?.label).toMatch(/admit/)
    expect(stage({ message: 'admitted by the inviter; catching up', inviter: 'ab' })).toEqual({
      label: 'admitted; catching up'
    })
    expect(stage({ message: 'replicating with peer', theirRecords: 1234 })).toEqual({
      label: 'catching up',
      total: 1234
    })
    expect(stage({ message: 'catch-up progress', held: 10, wanted: 40 })).toEqual({
      label: 'catching up',
      done: 10,
      total: 40
    })
    expect(stage({ message: 'dial failed; will retry' })).toBeUndefined()
  })

  test('a warning reads as level, component and message', () => {
    // Goal: warnings shown by the CLI are short and readable.
    expect(
      logLineText(parseLogLine(line({ level: 'warn', message: 'refused a join', reason: 'used' }))!)
    ).toBe('warn net: refused a join {"reason":"used"}')
    expect(logLineText(parseLogLine(line({ component: 'ivyfs', level: 'error', message: 'boom' }))!)).toBe(
      'error daemon: boom'
    )
  })
})
