#!/usr/bin/env node
// Soak of the hostile peer (issue 8): a raw libp2p peer with a member's key attacks a daemon
// process (fuzzed frames, forged signatures, replayed and reordered records, oversized messages,
// a fork); the daemon must keep serving, store nothing invalid and report the fork.
// Usage: node test/soak/hostile-peer.mjs [trials=300] [seed=random]
import { runSuite } from './lib/run-suite.mjs'

runSuite('reliability-hostile', 'hostile-peer', 300)
