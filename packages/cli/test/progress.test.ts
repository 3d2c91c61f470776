import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { BAR_WIDTH, Progress, renderBar, renderProgress } from '../src/progress.js'

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { written: string } {
  const stream = {
    isTTY,
    columns: 100,
    written: '',
    write: (text: string) => ((stream.written += text), true)
  }
  return stream as unknown as NodeJS.WriteStream & { written: string }
}

describe('progress', () => {
  const term = process.env['TERM']
  beforeAll(() => {
    process.env['TERM'] = 'xterm' // a dumb terminal (TERM=dumb) gets no progress line
  })
  afterAll(() => {
    if (term === undefined) delete process.env['TERM']
    else process.env['TERM'] = term
  })

  test('the bar fills in proportion and clamps at both ends', () => {
    // Goal: a catch-up bar never overflows or goes negative.
    expect(renderBar(0, 10)).toBe(`[${'░'.repeat(BAR_WIDTH)}]   0%`)
    expect(renderBar(5, 10)).toBe(`[${'█'.repeat(BAR_WIDTH / 2)}${'░'.repeat(BAR_WIDTH / 2)}]  50%`)
    expect(renderBar(12, 10)).toBe(`[${'█'.repeat(BAR_WIDTH)}] 100%`)
    expect(renderBar(3, 0)).toBe(`[${'█'.repeat(BAR_WIDTH)}] 100%`)
  })

  test('a known total draws a bar with counts; an unknown one a spinner with the label', () => {
    // Goal: join shows a stage while the amount is unknown, catch-up shows how far it is.
    expect(renderProgress({ label: 'catching up', done: 30, total: 120, unit: 'records' }, 0, 4200)).toBe(
      `catching up ${renderBar(30, 120)} 30/120 records (4 s)`
    )
    expect(renderProgress({ label: 'admitted; catching up', total: 57, unit: 'records' }, 1, 900)).toBe(
      '⠙ admitted; catching up (57 records) 0 s'
    )
  })

  test('draws in place on a terminal and erases its line when done', () => {
    // Goal: progress never leaves debris on the terminal.
    const stream = fakeStream(true)
    const progress = new Progress('joining', { stream, nowMs: () => 0 })
    progress.update({ label: 'catching up', done: 1, total: 2 })
    progress.note('warn net: slow peer')
    progress.done()
    expect(stream.written.startsWith('\r\u001b[2K')).toBe(true)
    expect(stream.written).toContain('catching up [')
    expect(stream.written).toContain('warn net: slow peer\n')
    expect(stream.written.endsWith('\r\u001b[2K')).toBe(true)
  })

  test('writes nothing but notes when the stream is not a terminal or output is JSON', () => {
    // Goal: scripts and logs never see control characters or progress lines.
    for (const [isTTY, enabled] of [
      [false, true],
      [true, false]
    ] as const) {
      const stream = fakeStream(isTTY)
      const progress = new Progress('joining', { stream, enabled })
      progress.update({ label: 'catching up', done: 1, total: 2 })
      progress.note('warn: something')
      progress.done()
      expect(stream.written).toBe('warn: something\n')
    }
  })
})
