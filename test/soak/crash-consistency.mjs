#!/usr/bin/env node
// Soak of crash consistency (issue 8): a daemon with a mount is SIGKILLed at random moments of a
// write workload; after restart every file closed before the kill must be intact and the log must
// verify. Prints e.g. "trials 100, ..., lost 0, corrupt 0"; exits non-zero if anything was lost.
// Usage: node test/soak/crash-consistency.mjs [trials=100] [seed=random]
import { runSuite } from './lib/run-suite.mjs'

runSuite('reliability-crash', 'crash-consistency', 100)
