/** @ivyfs/cli — the `ivy` command (bin: dist/main.js). Exit codes: exit-codes.ts and README.md. */
export { EXIT, exitCodeFor, UsageError, type ExitCode } from './exit-codes.js'
