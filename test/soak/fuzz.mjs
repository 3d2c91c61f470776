#!/usr/bin/env node
// Soak of decoder fuzzing (issue 8): records, wire messages, frames, tickets (in process) and the
// control socket of a daemon process, with seeded random and mutated inputs; each must end in an
// answer or a typed error (no crash, no hang). Trials multiply the number of inputs per decoder.
// The suite is split by concern: records and blob manifests, wire messages/tickets/frames, the
// control socket.
// Usage: node test/soak/fuzz.mjs [trials=20] [seed=random]
import { runSuite } from './lib/run-suite.mjs'

runSuite(['reliability-fuzz-records', 'reliability-fuzz-wire', 'reliability-fuzz-control'], 'fuzz', 20)
