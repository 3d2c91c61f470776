/**
 * `ivy init` and `ivy join` run the daemon's entry point with `--log-format json` and read its
 * log lines (stderr) to show what it is doing: a progress line on a terminal, warnings and
 * errors always, everything with an explicit --log-level.
 */

export interface DaemonLogLine {
  level: string
  component: string
  message: string
  fields: Record<string, unknown>
}

/** A JSON log line of the daemon, or undefined for anything else (printed as it is). */
export function parseLogLine(line: string): DaemonLogLine | undefined {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const { level, component, message, ...fields } = value as Record<string, unknown>
  delete fields['time']
  if (typeof level !== 'string' || typeof message !== 'string') return undefined
  return { level, component: typeof component === 'string' ? component : 'ivyfs', message, fields }
}

/** The log line as a person reads it: `warn net: message {fields}`. */
export function logLineText(line: DaemonLogLine): string {
  const tail = Object.keys(line.fields).length === 0 ? '' : ' ' + JSON.stringify(line.fields)
  return `${line.level} ${line.component.replace(/^ivyfs\/?/, '') || 'daemon'}: ${line.message}${tail}`
}

export interface JoinStage {
  label: string
  /** Records fetched so far, when the daemon reports it. */
  done?: number
  /** Records the inviter holds: what catching up has to fetch. */
  total?: number
}

/**
 * The stage of a join a log line announces (messages of daemon/setup.ts and net/membership.ts),
 * or undefined when the line says nothing about it.
 */
export function joinStage(line: DaemonLogLine): JoinStage | undefined {
  if (line.message === 'network started') return { label: 'starting the network' }
  if (line.message === 'joining') return { label: 'asking the inviter to admit this machine' }
  if (line.message.startsWith('admitted by the inviter')) return { label: 'admitted; catching up' }
  // Not logged yet: the daemon's join has no progress hook (see docs/CLI.md); this is the line it should log.
  if (line.message === 'catch-up progress') {
    const { held, wanted } = line.fields
    if (typeof held === 'number' && typeof wanted === 'number')
      return { label: 'catching up', done: held, total: wanted }
  }
  if (line.message === 'replicating with peer') {
    const total = line.fields['theirRecords']
    return typeof total === 'number' ? { label: 'catching up', total } : { label: 'catching up' }
  }
  return undefined
}
