// Child process for FUSE tests: mounts the in-memory filesystem (built dist/) on argv[2], prints
// "mounted" once the kernel has it, and unmounts on SIGTERM. Tests SIGKILL it to leave a stale mount.
import { mountMemoryFilesystem } from '../../packages/fuse/dist/index.js'

const handle = await mountMemoryFilesystem(process.argv[2])
process.stdout.write('mounted\n')
process.on('SIGTERM', () => {
  handle.unmount().then(
    () => process.exit(0),
    () => process.exit(1)
  )
})
