/**
 * Structured logs with levels, one line each on stderr: `time level component message {fields}`.
 * The level comes from the config or IVYFS_LOG_LEVEL; `--log-format json` gives JSON lines.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFormat = 'text' | 'json'

export interface Logger {
  debug(message: string, fields?: object): void
  info(message: string, fields?: object): void
  warn(message: string, fields?: object): void
  error(message: string, fields?: object): void
  child(component: string): Logger
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export function isLogLevel(value: string): value is LogLevel {
  return value in RANK
}

export interface LoggerInit {
  level?: LogLevel
  format?: LogFormat
  component?: string
  write?: (line: string) => void
}

export function createLogger(init: LoggerInit = {}): Logger {
  const level = init.level ?? 'info'
  const format = init.format ?? 'text'
  const component = init.component ?? 'ivyfs'
  const write = init.write ?? ((line: string) => process.stderr.write(line + '\n'))
  const emit = (at: LogLevel, message: string, fields?: object): void => {
    if (RANK[at] < RANK[level]) return
    const time = new Date().toISOString()
    const data = fields === undefined ? undefined : serialisable(fields)
    if (format === 'json') {
      write(JSON.stringify({ time, level: at, component, message, ...(data ?? {}) }))
    } else {
      const tail = data === undefined || Object.keys(data).length === 0 ? '' : ' ' + JSON.stringify(data)
      write(`${time} ${at.padEnd(5)} ${component}: ${message}${tail}`)
    }
  }
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    child: (name) => createLogger({ level, format, write, component: `${component}/${name}` })
  }
}

/** Errors and byte arrays do not survive JSON.stringify as-is: turn them into readable fields. */
function serialisable(fields: object): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof Error) out[key] = { name: value.name, message: value.message }
    else if (value instanceof Uint8Array) out[key] = Buffer.from(value).toString('hex')
    else out[key] = value
  }
  return out
}
