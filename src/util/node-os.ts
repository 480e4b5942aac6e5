/**
 * node:os on first use. An `import os from 'node:os'` loads the module when
 * the bundle starts (about 0.5 ms), in the launcher before it spawns the
 * init and in the init before the workload starts, for calls only some paths
 * make (the CPU count for --cpus, the host name for a root filesystem, an
 * error's name).
 */
export function nodeOs(): typeof import('node:os') {
  return process.getBuiltinModule('node:os');
}
