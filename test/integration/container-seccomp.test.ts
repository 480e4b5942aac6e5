/**
 * The default seccomp filter, for real: a static probe inside a container
 * calls io_uring_setup and personality() with values Docker's profile
 * refuses and allows. (Every decision of the filter is checked in
 * test/unit/hardening-seccomp.test.ts through its BPF interpreter.)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unmet } from '../helpers/prereq.js';
import { HELPERS } from '../helpers/proc.js';
import { canContainer, CONTAINER_NEEDS, fields, useContainerFixture } from './container-helpers.js';
import { hasSyncReturn, run } from './run-helpers.js';

describe.skipIf(unmet(canContainer, CONTAINER_NEEDS))('the default seccomp filter in a container', () => {
  const f = useContainerFixture();
  let probeDir: string;
  beforeAll(() => {
    probeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-probe-'));
    fs.chmodSync(probeDir, 0o755);
    const r = spawnSync('gcc', ['-static', '-O2', '-Wall', '-o', path.join(probeDir, 'probe'), path.join(HELPERS, 'syscall_probe.c')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    fs.mkdirSync(path.join(f.rootfs, 'probe')); // the mount point (a writable root keeps those it gets)
  });
  afterAll(() => {
    fs.rmSync(probeDir, { recursive: true, force: true });
    fs.rmdirSync(path.join(f.rootfs, 'probe'));
  });

  const CALLS = ['io_uring_setup', '0x0', '0x8', '0x20000', '0x20008', '0xffffffff', '0x400000' /* READ_IMPLIES_EXEC */, '0x40000' /* ADDR_NO_RANDOMIZE */, '0x1'];
  const probe = (...flags: string[]) => {
    const r = run(['-q', '--rootfs', f.rootfs, '--volume', `${probeDir}:/probe:ro`, ...flags, '--', '/probe/probe', ...CALLS]);
    expect(r.status, hasSyncReturn(r)).toBe(0);
    return fields(r.stdout);
  };

  it("denies io_uring and personality() values Docker's profile refuses, with EPERM; allows Docker's five", () => {
    expect(probe()).toEqual({
      io_uring_setup: 'EPERM',
      '0x0': 'ok', '0x8': 'ok', '0x20000': 'ok', '0x20008': 'ok', '0xffffffff': 'ok',
      '0x400000': 'EPERM', '0x40000': 'EPERM', '0x1': 'EPERM',
    });
  });

  it('--seccomp unconfined: the same calls reach the kernel (the EPERMs above are the filter\'s)', () => {
    const out = probe('--seccomp', 'unconfined');
    expect(out).toMatchObject({ '0x400000': 'ok', '0x40000': 'ok', '0x1': 'ok' });
    // The kernel itself may refuse io_uring (kernel.io_uring_disabled); what it says is not the filter's EPERM then.
    const disabled = fs.existsSync('/proc/sys/kernel/io_uring_disabled') ? fs.readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim() : '0';
    expect(out.io_uring_setup).toBe(disabled === '0' ? 'ok' : 'EPERM');
  });
});
