/**
 * The workload's process in a container, for real: docker's 14 capabilities,
 * --cap-add/--cap-drop, no_new_privs, the default seccomp filter (and
 * --seccomp unconfined), --user/--group-add, rlimits, env and workdir.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { capabilityMask, DOCKER_DEFAULT_CAPS } from '../../src/libc/capabilities.js';
import { canContainer, CONTAINER_NEEDS, fields, useContainerFixture } from './container-helpers.js';
import { hasSyncReturn, run, TIMEOUT } from './run-helpers.js';
import { unmet } from '../helpers/prereq.js';

const status = 'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status | tr -d "\\t" | sed "s/:/=/"';
const hex = (m: bigint) => m.toString(16).padStart(16, '0');

describe.skipIf(unmet(canContainer, CONTAINER_NEEDS))('tini-ts run: the hardened workload', () => {
  const f = useContainerFixture();
  const ctr = (...args: string[]) => run(['-q', '--layer', f.rootfs, '--layer', f.layer, ...args]);

  it("has docker's 14 capabilities, no_new_privs and a seccomp filter by default", () => {
    const r = ctr('--', 'sh', '-c', status);
    expect(r.status, hasSyncReturn(r)).toBe(0);
    const m = hex(capabilityMask(DOCKER_DEFAULT_CAPS));
    expect(fields(r.stdout)).toEqual({ CapInh: '0000000000000000', CapPrm: m, CapEff: m, CapBnd: m, CapAmb: '0000000000000000', NoNewPrivs: '1', Seccomp: '2' });
  });

  it('--cap-add and --cap-drop change the set; --new-privileges and --seccomp unconfined turn those off', () => {
    const r = ctr('--cap-drop', 'ALL', '--cap-add', 'NET_ADMIN', '--new-privileges', '--seccomp', 'unconfined', '--', 'sh', '-c', status);
    const m = hex(capabilityMask(['NET_ADMIN']));
    expect(fields(r.stdout), hasSyncReturn(r)).toMatchObject({ CapPrm: m, CapEff: m, CapBnd: m, NoNewPrivs: '0', Seccomp: '0' });
  });

  it('namespaces and mounts are refused by default; the filter allows them once SYS_ADMIN is granted (as docker\'s profile)', () => {
    // (which calls the filter denies is checked in test/unit/hardening-seccomp.test.ts with its interpreter)
    const probe = 'unshare -m true 2>/dev/null; echo "unshare=$?"; mount -t tmpfs t /tmp 2>/dev/null; echo "mount=$?"; echo "ok=1"';
    const hardened = fields(ctr('--', 'sh', '-c', probe).stdout);
    expect(hardened).toMatchObject({ unshare: '1', mount: '1', ok: '1' });
    // with CAP_SYS_ADMIN the filter allows what the capability allows (as docker's profile)
    const admin = fields(ctr('--cap-add', 'SYS_ADMIN', '--', 'sh', '-c', probe).stdout);
    expect(admin).toMatchObject({ unshare: '0', mount: '0' });
    const unconfined = fields(ctr('--cap-add', 'SYS_ADMIN', '--seccomp', 'unconfined', '--', 'sh', '-c', probe).stdout);
    expect(unconfined).toMatchObject({ unshare: '0', mount: '0' });
  });

  it('--user and --group-add: names from the image, supplementary groups, HOME; capabilities are gone for a non-root user', () => {
    const r = ctr('--user', 'app', '--group-add', '5', '--', 'sh', '-c', `echo "id=$(id -u):$(id -g)"; echo "groups=$(id -G)"; echo "home=$HOME"; ${status}`);
    expect(r.status, hasSyncReturn(r)).toBe(0);
    expect(fields(r.stdout)).toMatchObject({ id: '1000:1000', groups: '1000 5 50', home: '/home/app', CapEff: '0000000000000000', CapPrm: '0000000000000000', NoNewPrivs: '1' });
    const numeric = ctr('--user', '4242:4243', '--', 'sh', '-c', 'echo "id=$(id -u):$(id -g)"; echo "home=$HOME"; touch /root/x 2>/dev/null; echo "w=$?"');
    expect(fields(numeric.stdout)).toEqual({ id: '4242:4243', home: '/', w: '1' });
  });

  it('the init is not dumpable: a workload of its main thread\'s uid (or root without CAP_SYS_PTRACE) cannot read its memory or environment', () => {
    const probe = [
      'echo "dumpable1=$(stat -c %u /proc/1/environ)"', // owned by root once not dumpable
      'cat /proc/1/environ >/dev/null 2>&1; echo "environ=$?"',
      '( exec 3</proc/1/mem ) 2>/dev/null; echo "mem=$?"',
      'readlink /proc/1/fd/0 >/dev/null 2>&1; echo "fd=$?"',
      'echo "self=$(cat /proc/self/environ | tr "\\0" "\\n" | grep -c ^PATH=)"',
    ].join('; ');
    for (const user of [['--user', 'app'], []]) {
      const r = ctr(...user, '--', 'sh', '-c', probe);
      expect(r.status, hasSyncReturn(r)).toBe(0);
      const v = fields(r.stdout);
      expect(v, user.join(' ')).toMatchObject({ dumpable1: '0', self: '1' });
      for (const k of ['environ', 'mem', 'fd']) expect(v[k], `${k} ${user.join(' ')}`).not.toBe('0');
    }
  });

  it('the init can still stop a workload that runs as another user', () => {
    const r = ctr('--user', '4242', '--timeout', TIMEOUT, '--grace', '300ms', '--', 'sh', '-c', 'trap "exit 9" TERM; sleep 100 & wait');
    expect(r.status, hasSyncReturn(r)).toBe(9);
  });

  it('--ulimit, --env, --env-file, --workdir', () => {
    const envFile = path.join(f.dir, 'env');
    fs.writeFileSync(envFile, '# comment\nFROM_FILE=1\nB=file\n');
    const r = ctr('--ulimit', 'nofile=1024:2048', '--ulimit', 'nproc=100', '-e', 'B=flag', '--env-file', envFile, '-w', '/work/dir', '--', 'sh', '-c',
      'echo "nofile=$(ulimit -n):$(ulimit -Hn)"; echo "nproc=$(ulimit -u)"; echo "B=$B"; echo "FROM_FILE=$FROM_FILE"; echo "cwd=$(pwd)"; echo "path=$PATH"');
    expect(fields(r.stdout), hasSyncReturn(r)).toEqual({ nofile: '1024:2048', nproc: '100', B: 'flag', FROM_FILE: '1', cwd: '/work/dir', path: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' });
  });

  it('--ulimit: a limit the init can share (nofile) it takes on itself, so the workload needs no gate; others (stack) stay the workload\'s alone', () => {
    const limit = (name: string) => `$(awk '/^${name}/ { print $(NF-2) ":" $(NF-1) }' /proc/1/limits)`;
    const r = ctr('--ulimit', 'nofile=1024:2048', '--ulimit', 'stack=4194304', '--', 'sh', '-c',
      `echo "nofile=$(ulimit -n):$(ulimit -Hn)"; echo "init_nofile=${limit('Max open files')}"; echo "stack=$(ulimit -s)"; echo "init_stack=${limit('Max stack size')}"`);
    const got = fields(r.stdout);
    expect(got, hasSyncReturn(r)).toMatchObject({ nofile: '1024:2048', init_nofile: '1024:2048', stack: '4096' });
    // The init's own stack limit is the runtime's, not the workload's 4 MiB.
    expect(got.init_stack, r.stdout).not.toBe('4194304:4194304');
  });

  it('without a root filesystem, --user and --env still apply (the program keeps the host)', () => {
    // From /: the program keeps the launcher's working directory, which uid 65534 may not reach (a clone under a 0700 home).
    const r = run(['-q', '--user', '65534', '-e', 'X=1', '--', 'sh', '-c', 'echo "id=$(id -u)"; echo "X=$X"'], { cwd: '/' });
    expect(fields(r.stdout), hasSyncReturn(r)).toEqual({ id: '65534', X: '1' });
  });
});
