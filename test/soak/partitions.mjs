#!/usr/bin/env node
// Soak of partitions (issue 8): seeded random partitions and heals among 3–5 daemons during random
// workloads; afterwards all trees and conflict indexes must be identical and every written version
// reachable (tree or conflict index) unless knowingly overwritten. Exits non-zero on any loss.
// Usage: node test/soak/partitions.mjs [trials=10] [seed=random]
import { runSuite } from './lib/run-suite.mjs'

runSuite('reliability-partitions', 'partitions', 10)
