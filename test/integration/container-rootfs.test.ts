/**
 * tini-ts run with a root filesystem, for real: pivot_root, /proc, /dev,
 * /sys, masked and read-only paths, /etc files, layers, volumes, bad input;
 * and nothing left on the host after any of it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canContainer, CONTAINER_NEEDS, fields, useContainerFixture } from './container-helpers.js';
import { CG_VERSION, hasSyncReturn, processesWith, run, start, TIMEOUT, waitFor } from './run-helpers.js';
import { unmet } from '../helpers/prereq.js';

describe.skipIf(unmet(canContainer, CONTAINER_NEEDS))('tini-ts run: root filesystem', () => {
  const f = useContainerFixture();

  it('pivots into --rootfs: the host is gone, / is the rootfs, the old root detached', () => {
    const marker = path.join(f.dir, 'host-only');
    fs.writeFileSync(marker, 'x');
    const r = run(['-q', '--rootfs', f.rootfs, '--hostname', 'box', '--', 'sh', '-c',
      `echo "host=$(cat ${marker} 2>/dev/null || echo none)"; echo "root=$(awk '$5 == "/"' /proc/self/mountinfo | wc -l)"; echo "mounts=$(wc -l < /proc/self/mountinfo)"; echo "hostname=$(hostname)"; echo "pid=$$"; echo "ppid=$PPID"; echo "node=$(ls /usr/bin/node 2>/dev/null || echo none)"`]);
    fs.rmSync(marker);
    expect(r.status, hasSyncReturn(r)).toBe(0);
    const v = fields(r.stdout);
    expect(v.host).toBe('none');
    expect(v.root).toBe('1');
    expect(v.node).toBe('none');
    expect(v.hostname).toBe('box');
    expect(v.ppid).toBe('1');
    // the host's mount table is not there: only the container's own mounts
    expect(Number(v.mounts)).toBeLessThan(40);
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(f.rootfs);
  });

  it('has /proc of its pid namespace, a small /dev, a read-only /sys, masked and read-only paths', () => {
    const r = run(['-q', '--rootfs', f.rootfs, '--', 'sh', '-c', [
      'echo "procs=$(ls /proc | grep -c "^[0-9]")"',
      'echo "dev=$(ls /dev | sort | tr "\\n" " ")"',
      'echo "null=$(stat -c %t,%T /dev/null)"',
      'echo "sys=$(grep " /sys " /proc/self/mountinfo | cut -d" " -f6 | cut -d, -f1)"',
      'echo "syswrite=$(echo 1 > /sys/kernel/profiling 2>&1 && echo yes || echo no)"',
      'for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/interrupts; do [ -e $p ] && echo "mask:$p=$(wc -c < $p 2>/dev/null)"; done',
      'echo "acpi=$(ls -A /proc/acpi 2>/dev/null | wc -l)"',
      'echo "firmware=$(ls -A /sys/firmware | wc -l)"',
      'for p in /proc/sys /proc/sysrq-trigger /proc/bus /proc/fs /proc/irq; do [ -e $p ] && echo "ro:$p=$(grep " $p " /proc/self/mountinfo | cut -d" " -f6 | cut -d, -f1-4 | sed s/,relatime//)"; done',
      'echo "sysctl=$(echo 1 > /proc/sys/kernel/sysrq 2>/dev/null && echo yes || echo no)"',
      'echo "pts=$(grep -c " /dev/pts " /proc/self/mountinfo)"',
      'echo "etc=$(cat /etc/hostname) $(grep -c localhost /etc/hosts)"',
    ].join('; ')]);
    expect(r.status, hasSyncReturn(r)).toBe(0);
    const v = fields(r.stdout);
    expect(Number(v.procs)).toBeLessThan(8);
    expect(v.dev.split(' ').filter(Boolean)).toEqual(['fd', 'full', 'mqueue', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero']);
    expect(v.null).toBe('1,3');
    expect(v.sys).toBe('ro');
    expect(v.syswrite).toBe('no');
    for (const [k, val] of Object.entries(v)) if (k.startsWith('mask:')) expect(val, k).toBe('0');
    expect(v.acpi).toBe('0');
    expect(v.firmware).toBe('0');
    // read-only, and still nosuid, nodev, noexec as the /proc they come from (runc keeps them; a bare bind remount clears them)
    for (const p of ['/proc/sys', '/proc/sysrq-trigger', '/proc/bus', '/proc/fs', '/proc/irq']) if (fs.existsSync(p)) expect(v[`ro:${p}`], p).toBe('ro,nosuid,nodev,noexec');
    expect(v.sysctl).toBe('no');
    expect(v.pts).toBe('1');
    expect(v.etc).toBe(`${os.hostname()} 2`);
  });

  it('builds the root from layers with overlayfs: a write lands in a temporary upper layer, never in a lower one', () => {
    const r = run(['-q', '--layer', f.rootfs, '--layer', f.layer, '--', 'sh', '-c',
      'cat /app/greeting; echo changed > /app/greeting; echo new > /etc/newfile; rm /bin/vi; mkdir /data; echo "after=$(cat /app/greeting)"; echo "root=$(grep " / / " /proc/self/mountinfo | cut -d" " -f9)"']);
    expect(r.status, hasSyncReturn(r)).toBe(0);
    expect(r.stdout).toContain('hello from layer 2');
    expect(fields(r.stdout)).toMatchObject({ after: 'changed', root: 'overlay' });
    expect(fs.readFileSync(path.join(f.layer, 'app/greeting'), 'utf8')).toBe('hello from layer 2\n');
    expect(fs.existsSync(path.join(f.rootfs, 'bin/vi'))).toBe(true);
  });

  it('keeps the writable layer with --upper, and only what the workload wrote is in it', () => {
    const upper = path.join(f.dir, 'upper');
    try {
      const r = run(['-q', '--layer', f.rootfs, '--layer', f.layer, '--upper', upper, '--', 'sh', '-c', 'echo data > /tmp/out; echo changed > /app/greeting']);
      expect(r.status, hasSyncReturn(r)).toBe(0);
      const files = fs.readdirSync(upper, { recursive: true }).map(String).sort();
      expect(files).toEqual(['app', 'app/greeting', 'tmp', 'tmp/out']);
      expect(fs.readFileSync(path.join(upper, 'tmp/out'), 'utf8')).toBe('data\n');
      // a second run sees the first one's writes
      const again = run(['-q', '--layer', f.rootfs, '--layer', f.layer, '--upper', upper, '--', 'cat', '/tmp/out', '/app/greeting']);
      expect(again.stdout).toBe('data\nchanged\n');
    } finally {
      fs.rmSync(upper, { recursive: true, force: true });
    }
  });

  it('--read-only makes the root read-only (but not /dev/shm, the volumes asked rw)', () => {
    const vol = fs.mkdtempSync(path.join(f.dir, 'vol-'));
    try {
      const r = run(['-q', '--rootfs', f.rootfs, '--read-only', '--volume', `${vol}:/data`, '--volume', `${f.layer}:/lower:ro`, '--', 'sh', '-c',
        'echo "root=$(touch /x 2>/dev/null && echo rw || echo ro)"; echo "shm=$(touch /dev/shm/x && echo rw)"; echo "vol=$(echo v > /data/v && echo rw)"; echo "volro=$(touch /lower/x 2>/dev/null && echo rw || echo ro)"; echo "seen=$(cat /lower/app/greeting)"']);
      expect(r.status, hasSyncReturn(r)).toBe(0);
      expect(fields(r.stdout)).toEqual({ root: 'ro', shm: 'rw', vol: 'rw', volro: 'ro', seen: 'hello from layer 2' });
      expect(fs.readFileSync(path.join(vol, 'v'), 'utf8')).toBe('v\n');
    } finally {
      fs.rmSync(vol, { recursive: true, force: true });
    }
  });

  it.each([
    ['a missing rootfs', () => ['--rootfs', '/nonexistent/rootfs', '--', 'sh'], /root filesystem \/nonexistent\/rootfs: not a directory/],
    ['a program missing from the rootfs', () => ['--rootfs', f.rootfs, '--', '/usr/bin/python3'], /\/usr\/bin\/python3: not found in the root filesystem/],
    ['a program missing along PATH', () => ['--rootfs', f.rootfs, '--', 'python3'], /python3: not found in the root filesystem/],
    ['a missing layer', () => ['--layer', f.rootfs, '--layer', '/nonexistent/layer', '--', 'sh'], /--layer \/nonexistent\/layer: not a directory/],
    ['a missing volume source', () => ['--rootfs', f.rootfs, '--volume', '/nonexistent/src:/x', '--', 'sh'], /--volume \/nonexistent\/src:\/x: the source does not exist/],
    ['an unknown user', () => ['--rootfs', f.rootfs, '--user', 'ghost', '--', 'sh'], /no user 'ghost'/],
  ])('refuses %s: one line, exit 125, nothing left', (_name, args, pattern) => {
    const r = run(args());
    expect(r.status, hasSyncReturn(r)).toBe(125);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  });

  it('passes the exit code and signal deaths through, and leaves nothing when killed by --timeout', () => {
    expect(run(['-q', '--rootfs', f.rootfs, '--', 'sh', '-c', 'exit 7']).status).toBe(7);
    expect(run(['-q', '--rootfs', f.rootfs, '--', 'sh', '-c', 'kill -9 $$']).status).toBe(137);
    const t = run(['-q', '--layer', f.rootfs, '--timeout', TIMEOUT, '--grace', '200ms', '--', 'sh', '-c', 'trap "" TERM; echo x > /tmp/y; sleep 100']);
    expect(t.status, hasSyncReturn(t)).toBe(137);
  });

  it('the state directory of a SIGKILLed launcher (layers, temporary upper) is removed by the next run', async () => {
    const m = `tini-ts-ctr-kill-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const p = start(['--layer', f.rootfs, '--layer', f.layer, '--', 'sh', '-c', `echo ready; echo x > /written; sleep 1000; : ${m}`]);
    expect(await waitFor(() => p.out().includes('ready'))).toBe(true);
    const owner = p.child.pid!;
    const mine = () => (fs.existsSync('/run/tini-ts') ? fs.readdirSync('/run/tini-ts').filter((n) => n.startsWith(`${owner}-`)) : []);
    expect(mine()).toHaveLength(1);
    const dir = path.join('/run/tini-ts', mine()[0]);
    p.child.kill('SIGKILL');
    await p.done;
    expect(await waitFor(() => processesWith(m).length === 0)).toBe(true);
    expect(fs.existsSync(path.join(dir, 'upper', 'written'))).toBe(true); // nobody was left to remove it...
    const r = run(['-vv', '--', 'true']);
    expect(r.status, hasSyncReturn(r)).toBe(0);
    expect(r.stderr).toContain(`removed ${dir}, left by a launcher that died`);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('a live launcher\'s state directory is left alone by another run', async () => {
    const p = start(['--rootfs', f.rootfs, '--', 'sh', '-c', 'echo ready; sleep 1000']);
    expect(await waitFor(() => p.out().includes('ready'))).toBe(true);
    const owner = p.child.pid!;
    const mine = () => (fs.existsSync('/run/tini-ts') ? fs.readdirSync('/run/tini-ts').filter((n) => n.startsWith(`${owner}-`)) : []);
    expect(mine()).toHaveLength(1);
    expect(run(['-q', '--rootfs', f.rootfs, '--', 'true']).status).toBe(0);
    expect(mine()).toHaveLength(1);
    p.child.kill('SIGTERM');
    await p.done;
    expect(mine()).toEqual([]);
  });

  it('the device cgroup: only the standard devices open; a block device made with mknod (CAP_MKNOD) cannot be (cgroup v1; v2 needs eBPF, not done)', () => {
    const probe = [
      'mknod /tmp/blk b 7 0; echo "mknod=$?"',
      'head -c 1 /tmp/blk >/dev/null 2>&1; echo "blk=$?"',
      'mknod /tmp/mem c 1 1; head -c 1 /tmp/mem >/dev/null 2>&1; echo "mem=$?"',
      'head -c 1 /dev/zero >/dev/null; echo "zero=$?"',
      'echo x > /dev/null; echo "null=$?"',
      'head -c 1 /dev/urandom >/dev/null; echo "urandom=$?"',
    ].join('; ');
    const r = run(['-q', '--layer', f.rootfs, '--', 'sh', '-c', probe]);
    expect(r.status, hasSyncReturn(r)).toBe(0);
    // cgroup v2 has no devices controller: the rules need an eBPF program, which tini-ts does not load yet
    // (README, "Differences from runc"), so there the block device opens. This flips when they are enforced.
    const blk = CG_VERSION === 1 ? '1' : '0';
    expect(fields(r.stdout)).toEqual({ mknod: '0', blk, mem: '1', zero: '0', null: '0', urandom: '0' });
  });
});
