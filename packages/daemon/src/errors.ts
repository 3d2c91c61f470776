/** Operating errors of the daemon: each a class with a literal `name`, a default message and `data`. */
export class DaemonError extends Error {
  readonly data: object
  constructor(message: string, data: object = {}) {
    super(message)
    this.data = data
  }
}

export class DaemonRunningError extends DaemonError {
  override readonly name = 'DaemonRunningError'
  constructor(dataDir: string, pid: number) {
    super(`another ivyfs daemon (pid ${pid}) is already using ${dataDir}`, { dataDir, pid })
  }
}

export class NotInitialisedError extends DaemonError {
  override readonly name = 'NotInitialisedError'
  constructor(dataDir: string) {
    super(`no filesystem in ${dataDir}: run \`ivy init\` or \`ivy join TICKET\` first`, { dataDir })
  }
}

export class AlreadyInitialisedError extends DaemonError {
  override readonly name = 'AlreadyInitialisedError'
  constructor(dataDir: string, fsId: string) {
    super(`${dataDir} already holds filesystem ${fsId}`, { dataDir, fsId })
  }
}

export class ConfigError extends DaemonError {
  override readonly name = 'ConfigError'
  constructor(path: string, problem: string) {
    super(`bad config ${path}: ${problem}`, { path, problem })
  }
}

export class DaemonNotRunningError extends DaemonError {
  override readonly name = 'DaemonNotRunningError'
  constructor(socketPath: string) {
    super(`no daemon is running (nothing listens on ${socketPath}): start one with \`ivy daemon\``, {
      socketPath
    })
  }
}

export class ControlProtocolError extends DaemonError {
  override readonly name = 'ControlProtocolError'
  constructor(problem: string) {
    super(`control socket: ${problem}`, { problem })
  }
}

export class UnknownMethodError extends DaemonError {
  override readonly name = 'UnknownMethodError'
  constructor(method: string) {
    super(`unknown control method: ${method}`, { method })
  }
}

export class BadParamsError extends DaemonError {
  override readonly name = 'BadParamsError'
  constructor(method: string, problem: string) {
    super(`${method}: ${problem}`, { method, problem })
  }
}

/** What an error from the daemon looks like once it has crossed the control socket. */
export class RemoteError extends DaemonError {
  override readonly name: string
  readonly errno: string | undefined
  constructor(name: string, message: string, errno: string | undefined, data: object) {
    super(message, data)
    this.name = name
    this.errno = errno
  }
}
