/**
 * tini-ts run, for real: what the program sees inside its namespaces, compared
 * with unshare(1) where they overlap, and nothing left on the host afterwards.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { canRun, CG_VERSION, cgroupPathIn, fields, RUN_NEEDS, hasSyncReturn, PARENT, run, tmpFile, expectNothingLeftBehind } from './run-helpers.js';
import { unmet } from '../helpers/prereq.js';

const probe = [
  'echo "pid=$$"; echo "ppid=$PPID"',
  'echo "hostname=$(hostname)"',
  "echo \"ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' ')\"",
  "echo \"lo=$(cat /sys/class/net/lo/flags 2>/dev/null)\"",
  'echo "procs=$(ls /proc | grep -c "^[0-9]")"',
  'echo "nspid=$(grep NSpid /proc/self/status | wc -w)"',
  'echo "init=$(cat /proc/1/comm)"',
].join('; ');

describe.skipIf(unmet(canRun, RUN_NEEDS))('tini-ts run: namespaces', () => {
  expectNothingLeftBehind();

  it('the program runs under an init that is PID 1, with its own hostname, /proc and only lo (up)', () => {
    const r = run(['--hostname', 'tini-box', '--', 'sh', '-c', probe]);
    expect(r.status, hasSyncReturn(r)).toBe(0);
    const f = fields(r.stdout);
    expect(f.ppid).toBe('1');
    expect(f.init).toBe('tini-ts');
    expect(f.hostname).toBe('tini-box');
    expect(f.ifaces).toBe('lo');
    expect(Number(f.procs)).toBeLessThan(8); // the init, sh, its subshell, ls, grep
    expect(f.nspid).toBe('2'); // "NSpid: N": the /proc of the new pid namespace shows only its own level
    expect(os.hostname()).not.toBe('tini-box');
  });

  it('matches unshare --pid --fork --mount-proc --uts --ipc --net where they overlap', () => {
    const ours = fields(run(['--', 'sh', '-c', probe]).stdout);
    const theirs = fields(
      spawnSync('unshare', ['--pid', '--fork', '--mount-proc', '--uts', '--ipc', '--net', 'sh', '-c', probe], { encoding: 'utf8' }).stdout,
    );
    expect(ours.hostname).toBe(theirs.hostname); // a new uts namespace starts as a copy
    expect(ours.ifaces).toBe(theirs.ifaces);
    expect(ours.nspid).toBe(theirs.nspid);
    // unshare(1) leaves lo down; tini-ts brings it up (IFF_UP = 0x1)
    expect(Number(ours.lo) & 1).toBe(1);
    // under unshare sh is PID 1 itself; under tini-ts its parent is PID 1
    expect(theirs.pid).toBe('1');
    expect(ours.ppid).toBe('1');
  });

  it('the network namespace, made after the init is spawned, is the init\'s and the program\'s on both spawn paths', () => {
    const host = fs.readlinkSync('/proc/self/ns/net');
    // The early spawn (before the options are read), then the usual one (--events takes it).
    for (const [extra, early] of [[[], true], [['--events', tmpFile('net-ev.jsonl')], false]] as const) {
      const r = run(['-vv', ...extra, '--', 'sh', '-c', 'readlink /proc/1/ns/net /proc/self/ns/net; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "']);
      expect(r.status, hasSyncReturn(r)).toBe(0);
      expect(r.stderr.includes('the init was spawned before the options were read')).toBe(early);
      const [init, program, ...ifaces] = r.stdout.trim().split('\n');
      expect(init).toMatch(/^net:\[\d+\]$/);
      expect(program).toBe(init);
      expect(init).not.toBe(host);
      expect(ifaces).toEqual(['lo']);
    }
  });

  it('loopback works inside: a TCP round trip on 127.0.0.1', () => {
    const script = "import socket;s=socket.socket();s.bind(('127.0.0.1',0));s.listen();c=socket.create_connection(s.getsockname());a,_=s.accept();c.send(b'hi');print(a.recv(2).decode())";
    const r = run(['--', 'python3', '-c', script]);
    expect(r.stdout.trim(), hasSyncReturn(r)).toBe('hi');
  });

  it('the program is in its cgroup from its first instruction (and sees / with a cgroup namespace)', () => {
    const shared = run(['--share', 'cgroup', '--report', tmpFile('r.json'), '--', 'cat', '/proc/self/cgroup']);
    expect(shared.status, hasSyncReturn(shared)).toBe(0);
    expect(cgroupPathIn(shared.stdout)).toMatch(new RegExp(`^/${PARENT}/[0-9]+-[0-9]+-[0-9a-f]+$`));
    if (CG_VERSION === 1) expect(/:pids:(.*)/.exec(shared.stdout)![1]).toBe(cgroupPathIn(shared.stdout));
    const own = run(['--', 'cat', '/proc/self/cgroup']);
    expect(cgroupPathIn(own.stdout)).toBe('/');
    if (CG_VERSION === 1) expect(/:pids:(.*)/.exec(own.stdout)![1]).toBe('/');
  });

  it('mounts made inside never appear on the host', () => {
    const r = run(['--', 'sh', '-c', 'mount -t tmpfs tini-ts-test /mnt && grep -c tini-ts-test /proc/self/mountinfo']);
    expect(r.stdout.trim(), hasSyncReturn(r)).toBe('1');
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toMatch(/tini-ts-test/);
  });

  it('--share keeps the host namespaces it names', () => {
    const r = run(['--share', 'net,uts', '--', 'sh', '-c', probe]);
    const f = fields(r.stdout);
    expect(f.hostname).toBe(os.hostname());
    const hostIfaces = fs.readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).map((l) => l.split(':')[0].trim()).filter(Boolean).sort();
    expect(f.ifaces.trim().split(' ')).toEqual(hostIfaces); // the host's, not a new namespace's lone lo
    expect(f.ppid).toBe('1');
  });

  it('exit codes pass through; a missing program is 127', () => {
    expect(run(['--', 'sh', '-c', 'exit 7']).status).toBe(7);
    const missing = run(['--', '/nonexistent/prog']);
    expect(missing.status).toBe(127);
    expect(missing.stderr).toMatch(/ENOENT/);
  });
});
