/**
 * The logger the daemon injects. Library code never writes to the console: everything that a
 * human may need to see (refused peers, protocol violations, redials) goes through this.
 */
export type LogFields = Readonly<Record<string, unknown>>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
}

const ignore = (): void => {}

/** Drops everything: the default when no logger is given. */
export const silentLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore }

/** A logger that adds fixed fields (e.g. the peer) to every line. */
export function withFields(logger: Logger, fixed: LogFields): Logger {
  return {
    debug: (message, fields) => logger.debug(message, { ...fixed, ...fields }),
    info: (message, fields) => logger.info(message, { ...fixed, ...fields }),
    warn: (message, fields) => logger.warn(message, { ...fixed, ...fields }),
    error: (message, fields) => logger.error(message, { ...fixed, ...fields })
  }
}
