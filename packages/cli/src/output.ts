/** How `ivy` prints: human text by default, `--json` for scripts, colour only on a TTY. */
import { EXIT, exitCodeFor } from './exit-codes.js'

export interface Output {
  json: boolean
  /** Prints a result: the JSON value with --json, else the human text. */
  result(value: unknown, human: () => string): void
  line(text: string): void
  /** A note for the person at the terminal, on stderr (also with --json: stdout stays data). */
  note(text: string): void
  /** Prints the error (JSON on stdout with --json, else a line on stderr) and returns its exit code. */
  error(err: unknown): number
}

const useColour = (stream: NodeJS.WriteStream): boolean =>
  stream.isTTY === true && process.env['NO_COLOR'] === undefined && process.env['TERM'] !== 'dumb'

export function paint(code: number, text: string, stream: NodeJS.WriteStream = process.stdout): string {
  return useColour(stream) ? `\u001b[${code}m${text}\u001b[0m` : text
}
export const bold = (text: string): string => paint(1, text)
export const dim = (text: string): string => paint(2, text)
export const red = (text: string): string => paint(31, text)
export const green = (text: string): string => paint(32, text)
export const yellow = (text: string): string => paint(33, text)

export function createOutput(json: boolean): Output {
  return {
    json,
    result(value, human) {
      process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : ensureNewline(human()))
    },
    line(text) {
      if (!json) process.stdout.write(ensureNewline(text))
    },
    note(text) {
      process.stderr.write(ensureNewline(text))
    },
    error(err) {
      const code = exitCodeFor(err)
      const name = err instanceof Error ? err.name : 'Error'
      const message = err instanceof Error ? err.message : String(err)
      const errno = (err as { errno?: unknown }).errno
      if (json) {
        process.stdout.write(
          JSON.stringify({
            error: { name, message, ...(typeof errno === 'string' ? { errno } : {}), exitCode: code }
          }) + '\n'
        )
      } else {
        const hint = code === EXIT.usage ? ' (add --help for usage)' : ''
        process.stderr.write(`${paint(31, 'ivy:', process.stderr)} ${message}${hint}\n`)
      }
      return code === EXIT.ok ? EXIT.failed : code
    }
  }
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') || text === '' ? text : text + '\n'
}

/** A short form of a 64-hex key or id for tables: the first 12 digits. */
export function short(hex: string): string {
  return hex.slice(0, 12)
}

export function table(rows: string[][]): string {
  const widths: number[] = []
  for (const row of rows)
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(cell).length)))
  return rows
    .map((row) =>
      row
        .map((cell, i) =>
          i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visible(cell).length)
        )
        .join('  ')
    )
    .join('\n')
}

function visible(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '')
}

export function formatTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}
