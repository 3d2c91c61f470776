/**
 * Progress of long operations (join, catch-up) on stderr: one line redrawn in place, only when
 * stderr is a terminal and the output is not --json, so scripts and logs never see it.
 */

/** Cells of the bar. */
export const BAR_WIDTH = 24

/** Redraws at most this often (a spinner frame each time). */
export const REDRAW_INTERVAL_MS = 100

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

export interface ProgressState {
  label: string
  done?: number | undefined
  total?: number | undefined
  unit?: string | undefined
}

/** `[██████░░░░] 60% 120/200 records` (pure). */
export function renderBar(done: number, total: number, width: number = BAR_WIDTH): string {
  const fraction = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total))
  const filled = Math.round(fraction * width)
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%`
}

/** One progress line: a bar when the total is known, else a spinner frame (pure). */
export function renderProgress(state: ProgressState, frame: number, elapsedMs: number): string {
  const seconds = `${Math.floor(elapsedMs / 1000)} s`
  const unit = state.unit === undefined ? '' : ` ${state.unit}`
  if (state.done !== undefined && state.total !== undefined && state.total > 0) {
    return `${state.label} ${renderBar(state.done, state.total)} ${state.done}/${state.total}${unit} (${seconds})`
  }
  const count = state.total !== undefined ? ` (${state.total}${unit})` : ''
  return `${SPINNER[frame % SPINNER.length]} ${state.label}${count} ${seconds}`
}

export interface ProgressInit {
  stream?: NodeJS.WriteStream
  /** Off for --json; even when on, nothing is drawn unless the stream is a terminal. */
  enabled?: boolean
  nowMs?: () => number
}

export class Progress {
  private readonly stream: NodeJS.WriteStream
  private readonly active: boolean
  private readonly nowMs: () => number
  private readonly startedMs: number
  private state: ProgressState
  private frame = 0
  private timer: NodeJS.Timeout | undefined
  private drawn = false

  constructor(label: string, init: ProgressInit = {}) {
    this.stream = init.stream ?? process.stderr
    this.active = (init.enabled ?? true) && this.stream.isTTY === true && process.env['TERM'] !== 'dumb'
    this.nowMs = init.nowMs ?? Date.now
    this.startedMs = this.nowMs()
    this.state = { label }
    if (this.active) {
      this.timer = setInterval(() => this.draw(), REDRAW_INTERVAL_MS)
      this.timer.unref()
      this.draw()
    }
  }

  get drawing(): boolean {
    return this.active
  }

  update(state: Partial<ProgressState>): void {
    this.state = { ...this.state, ...state }
    if (this.active) this.draw()
  }

  /** Prints a line above the progress line (a warning, say) without breaking it. */
  note(text: string): void {
    if (this.active) this.clear()
    this.stream.write(text.endsWith('\n') ? text : text + '\n')
    if (this.active) this.draw()
  }

  /** Stops drawing and erases the line. */
  done(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    if (this.active) this.clear()
  }

  private draw(): void {
    const line = renderProgress(this.state, this.frame++, this.nowMs() - this.startedMs)
    const columns = this.stream.columns !== undefined && this.stream.columns > 0 ? this.stream.columns : 80
    this.stream.write(`\r\u001b[2K${line.slice(0, Math.max(10, columns - 1))}`)
    this.drawn = true
  }

  private clear(): void {
    if (this.drawn) this.stream.write('\r\u001b[2K')
    this.drawn = false
  }
}
