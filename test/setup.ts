// Loaded by vitest before every test file: Node 20 lacks Promise.withResolvers, which libp2p needs.
import '../packages/net/src/polyfill.js'
