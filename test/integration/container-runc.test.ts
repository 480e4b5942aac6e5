/**
 * Differential: the default bundle `runc spec` writes (terminal off, args a
 * busybox probe) run by `runc run` and by `tini-ts run --bundle`. What the
 * workload sees must match, except the deliberate differences listed below.
 *
 * Deliberate differences (not compared):
 *   - /sys/fs/cgroup/<controller>: runc makes a cgroup in every hierarchy and
 *     binds each; tini-ts binds only the hierarchies where it made one
 *     (memory, pids, cpu, cpuacct, cpuset as the limits need), never the
 *     host's root cgroup of the others.
 *   - PID 1 is tini-ts's init (the workload is its child), where runc execs
 *     the workload as PID 1.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canContainer, CONTAINER_NEEDS, fields, makeFixture, makeRuncBundle, type Fixture } from './container-helpers.js';
import { CG, CG_VERSION, ownStateDirs, parentLeft, runArgs, runBin, snapshot } from './run-helpers.js';
import { unmet } from '../helpers/prereq.js';

const hasRunc = spawnSync('runc', ['--version']).status === 0;

const MASKED = ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'];

const probe = [
  'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):" /proc/self/status | tr -d "\\t" | sed "s/:/=/"',
  // mount point and ro/rw, except the per-controller cgroup binds
  "awk '{ split($6, o, \",\"); if ($5 !~ \"^/sys/fs/cgroup/\") print \"mount:\" $5 \"=\" o[1] }' /proc/self/mountinfo",
  ...MASKED.map((p) => `[ -e ${p} ] && echo "masked:${p}=$( (if [ -d ${p} ]; then ls -A ${p}; else cat ${p}; fi) 2>/dev/null | wc -c)"`),
  'echo "uid=$(id -u)"; echo "gid=$(id -g)"; echo "groups=$(id -G)"',
  'echo "hostname=$(hostname)"',
  'echo "nofile=$(ulimit -n)"',
  'echo "rootwrite=$(touch /x 2>/dev/null && echo yes || echo no)"',
  'echo "dev=$(ls /dev | tr "\\n" " ")"',
  'echo "cwd=$(pwd)"; echo "path=$PATH"',
  'exit 3',
].join('; ');

describe.skipIf(unmet(canContainer && hasRunc, `${CONTAINER_NEEDS} and runc`))('tini-ts run --bundle beside runc run', () => {
  let f: Fixture;
  let bundle: string;
  beforeAll(() => {
    f = makeFixture();
    bundle = makeRuncBundle(f, (config) => (config.process.args = ['sh', '-c', probe]));
  });
  afterAll(() => {
    f?.cleanup();
    expect(parentLeft()).toEqual([]);
  });

  function runc(): { status: number | null; stdout: string; stderr: string } {
    const id = `tini-ts-diff-${crypto.randomBytes(4).toString('hex')}`;
    try {
      const r = spawnSync('runc', ['run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 30_000 });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    } finally {
      spawnSync('runc', ['delete', '-f', id]);
      // runc's default cgroup: /<id> in every hierarchy on v1, /sys/fs/cgroup/<id> on v2 (gone after delete)
      if (CG_VERSION === 2) expect(fs.existsSync(path.join(CG, id)), id).toBe(false);
      else for (const c of fs.readdirSync(CG)) expect(fs.existsSync(path.join(CG, c, id)), `${c}/${id}`).toBe(false);
      expect(fs.existsSync(`/run/runc/${id}`)).toBe(false);
    }
  }

  it('the workload sees the same capabilities, no_new_privs, mounts, masked paths, ids, hostname and exit code', () => {
    const before = snapshot();
    const theirs = runc();
    const ours = runBin(runArgs(['-q', '--bundle', bundle]));
    expect(snapshot()).toEqual(before);
    expect(ownStateDirs()).toEqual([]);

    expect(theirs.status, theirs.stderr).toBe(3);
    expect(ours.status, ours.stderr).toBe(3);
    const a = fields(ours.stdout);
    const b = fields(theirs.stdout);
    for (const k of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs']) expect(a[k], k).toBe(b[k]);
    expect(a.CapBnd).toBe('0000000020000420'); // AUDIT_WRITE, KILL, NET_BIND_SERVICE
    const mounts = (v: Record<string, string>) => Object.entries(v).filter(([k]) => k.startsWith('mount:')).sort();
    expect(mounts(a)).toEqual(mounts(b));
    const masked = (v: Record<string, string>) => Object.entries(v).filter(([k]) => k.startsWith('masked:')).sort();
    expect(masked(a)).toEqual(masked(b));
    for (const [k, n] of masked(a)) expect(n, k).toBe('0');
    // runc also links /dev/core to /proc/kcore where the kernel has one (Debian's does, in the VM stage); tini-ts does not (README)
    b.dev = b.dev.split(' ').filter((d) => d !== 'core').join(' ');
    for (const k of ['uid', 'gid', 'groups', 'hostname', 'nofile', 'rootwrite', 'dev', 'cwd', 'path']) expect(a[k], k).toBe(b[k]);
    expect(a.hostname).toBe('runc');
    expect(a.rootwrite).toBe('no');
    // linux.resources.devices is applied (the device cgroup), so nothing to warn about
    expect(ours.stderr).toBe('');
  });

  it('an invalid config.json is refused naming the field: one line, exit 125, nothing left', () => {
    const bad = path.join(f.dir, 'bad');
    fs.mkdirSync(bad, { recursive: true });
    const config = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
    config.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 5 }];
    fs.writeFileSync(path.join(bad, 'config.json'), JSON.stringify(config));
    const before = snapshot();
    const r = runBin(runArgs(['--bundle', bad]));
    expect(r.status).toBe(125);
    expect(r.stderr.trim()).toBe('tini-ts run: config.json: process.rlimits[0]: soft (10) is above hard (5)');
    expect(snapshot()).toEqual(before);
  });

  it("a bundle without a proc mount is refused in one line (the init needs the container's /proc to find its threads), nothing left", () => {
    const noProc = path.join(f.dir, 'no-proc');
    fs.mkdirSync(noProc, { recursive: true });
    const config = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
    config.root.path = path.join(bundle, 'rootfs');
    config.mounts = config.mounts.filter((m: { type?: string }) => m.type !== 'proc');
    config.linux.maskedPaths = []; // masking goes through /proc/self/fd too
    config.linux.readonlyPaths = config.linux.readonlyPaths.filter((p: string) => !p.startsWith('/proc'));
    fs.writeFileSync(path.join(noProc, 'config.json'), JSON.stringify(config));
    const before = snapshot();
    const r = runBin(runArgs(['-q', '--bundle', noProc]));
    expect(r.status, r.stderr).toBe(125);
    expect(r.stderr).toMatch(/^tini-ts run: failed: the container has no \/proc: the init needs one to give each of its threads the workload's privileges \(add a proc mount to config.json's mounts\); wall [^\n]*\n$/);
    expect(snapshot()).toEqual(before);
    expect(ownStateDirs()).toEqual([]);
  });
});
