/*
 * The least a Node init can do, as a floor for the benchmark:
 *
 *   node --expose-internals --no-warnings node-floor.cjs PROGRAM [ARGS...]
 *   node --expose-internals --no-warnings node-floor.cjs --stamp-exit
 *
 * Starts PROGRAM in a process group of its own (child_process, detached), and
 * from then on does only what any Node-based init must: libuv signal handles
 * (the same internal ones tini-ts uses) for SIGCHLD and SIGUSR1; on SIGCHLD a
 * koffi waitpid(-1, WNOHANG) loop, on SIGUSR1 a koffi kill(-pgid, SIGUSR1);
 * once PROGRAM is reaped, _exit with its status (the fastest way out of a
 * Node process). No options, no logging, no state machine: what tini-ts costs
 * beyond this is tini-ts's own.
 *
 * --stamp-exit: print CLOCK_MONOTONIC (ns) and _exit(0) at once: what a Node
 * process's exit costs by itself (mostly the kernel tearing it down).
 */
'use strict';
const { spawn } = require('node:child_process');
const { internalBinding } = require('internal/test/binding');

const mod = { exports: {} };
process.dlopen(mod, require.resolve('@koromix/koffi-linux-x64/linux_x64/koffi.node'));
const libc = mod.exports.load('libc.so.6');
const waitpid = libc.func('int waitpid(int pid, _Out_ int *status, int options)');
const kill = libc.func('int kill(int pid, int sig)');
const _exit = libc.func('void _exit(int status)');

if (process.argv[2] === '--stamp-exit') {
  require('node:fs').writeSync(1, `${process.hrtime.bigint()}\n`);
  _exit(0);
}

const SIGUSR1 = 10;
const SIGCHLD = 17;
const WNOHANG = 1;
const { Signal } = internalBinding('signal_wrap');
const status = [0];
let child;

function exitWith(st) {
  _exit((st & 0x7f) === 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f));
}

const chld = new Signal();
chld.onsignal = () => {
  for (;;) {
    const pid = waitpid(-1, status, WNOHANG);
    if (pid <= 0) return;
    if (child && pid === child.pid) exitWith(status[0]);
  }
};
chld.start(SIGCHLD);
chld.unref();

const usr1 = new Signal();
usr1.onsignal = () => {
  if (child) kill(-child.pid, SIGUSR1);
};
usr1.start(SIGUSR1);
usr1.unref();

child = spawn(process.argv[2], process.argv.slice(3), { stdio: 'inherit', detached: true });
// If libuv's own SIGCHLD watcher reaps the child first, its exit event ends us.
child.on('exit', (code, sig) => _exit(sig ? 128 + require('node:os').constants.signals[sig] : code));
