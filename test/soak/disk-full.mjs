#!/usr/bin/env node
// Soak of the full disk (issue 8): the data directory on a small tmpfs is filled through the mount;
// writes must fail with ENOSPC, nothing stored may be lost, and the daemon must take writes again
// once the tmpfs grows (and keep everything across a restart). Needs root (mount -t tmpfs).
// Usage: node test/soak/disk-full.mjs [trials=6] [seed=random]
import { runSuite } from './lib/run-suite.mjs'

runSuite('reliability-disk-full', 'disk-full', 6)
