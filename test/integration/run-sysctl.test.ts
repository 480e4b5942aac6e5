/**
 * Namespaced kernel parameters (--sysctl, linux.sysctl) and the OOM score
 * (--oom-score-adj, process.oomScoreAdj): set in the container, never on the
 * host; parameters that are not namespaced are refused before anything runs.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sysctlProblem } from '../../src/libc/sysctl.js';
import { unmet } from '../helpers/prereq.js';
import { canRun, RUN_NEEDS, hasSyncReturn, run, expectNothingLeftBehind } from './run-helpers.js';

describe('which kernel parameters a container may set', () => {
  it('only those the kernel keeps per namespace, and only with a namespace of their own', () => {
    const all = { ipc: true, net: true };
    for (const ok of ['net.ipv4.ip_forward', 'net.core.somaxconn', 'kernel.shmmax', 'kernel.sem', 'fs.mqueue.msg_max']) expect(sysctlProblem(ok, all)).toBeNull();
    expect(sysctlProblem('vm.swappiness', all)).toMatch(/not namespaced/);
    expect(sysctlProblem('kernel.hostname', all)).toMatch(/not namespaced/);
    expect(sysctlProblem('net.ipv4.ip_forward', { ipc: true, net: false })).toMatch(/needs a new network namespace/);
    expect(sysctlProblem('kernel.shmmax', { ipc: false, net: true })).toMatch(/needs a new ipc namespace/);
    expect(sysctlProblem('../../etc/passwd', all)).toMatch(/not a sysctl name/);
    // The uts namespace's domain name (Docker's --domainname), as runc allows it; the host name has its own field.
    expect(sysctlProblem('kernel.domainname', { ...all, uts: true })).toBeNull();
    expect(sysctlProblem('kernel.domainname', all)).toMatch(/not namespaced/);
    expect(sysctlProblem('kernel.hostname', { ...all, uts: true })).toBe('kernel.hostname is not allowed: it conflicts with the hostname field (--hostname)');
  });
});

describe.skipIf(unmet(canRun, RUN_NEEDS))('tini-ts run: sysctls and the OOM score (real)', () => {
  expectNothingLeftBehind();
  const host = () => ['/proc/sys/net/ipv4/ip_forward', '/proc/sys/kernel/shmmax'].map((f) => fs.readFileSync(f, 'utf8'));

  it('are set inside the container only', () => {
    const before = host();
    const domain = fs.readFileSync('/proc/sys/kernel/domainname', 'utf8');
    const r = run(['-q', '--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.shmmax=123456', '--sysctl', 'kernel.domainname=example.test', '--oom-score-adj', '300', '--', 'sh', '-c', 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/sys/kernel/domainname /proc/self/oom_score_adj']);
    expect(r.status, hasSyncReturn(r)).toBe(0);
    expect(r.stdout).toBe('1\n123456\nexample.test\n300\n');
    expect(host()).toEqual(before);
    expect(fs.readFileSync('/proc/sys/kernel/domainname', 'utf8')).toBe(domain);
  });

  it('one that is not namespaced, or without its namespace, is refused in one line', () => {
    const a = run(['-q', '--sysctl', 'vm.swappiness=1', '--', 'true']);
    expect(a.status).toBe(125);
    expect(a.stderr).toMatch(/^tini-ts run: --sysctl: vm.swappiness is not namespaced/);
    const b = run(['-q', '--share', 'net', '--sysctl', 'net.ipv4.ip_forward=1', '--', 'true']);
    expect(b.status).toBe(125);
    expect(b.stderr).toMatch(/needs a new network namespace/);
    const c = run(['-q', '--oom-score-adj', '1001', '--', 'true']);
    expect(c.status).toBe(125);
  });
});
