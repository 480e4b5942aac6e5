/**
 * dropPrivileges against a recording ContainerLibc: the order of the steps
 * (runc's), which calls each thread makes, and who makes them (every thread
 * of the init, or the exec verb's own thread alone), the seccomp filter's
 * place and its TSYNC flag, and a failing step named once.
 */
import { describe, expect, it } from 'vitest';
import { SECCOMP_FILTER_FLAG_TSYNC, type ContainerLibc } from '../../src/libc/container.js';
import type { ThreadCall } from '../../src/libc/every-thread.js';
import { sysError } from '../../src/libc/errno.js';
import { ok } from '../../src/libc/types.js';
import { render } from '../../src/libc/error.js';
import { dropPrivileges } from '../../src/runtime/workload.js';
import type { ProcessSpec } from '../../src/runtime/process.js';

interface Step { step: string; calls?: string[]; flags?: number }

function recorder(fail: { everyThread?: string } = {}) {
  const steps: Step[] = [];
  const names = (calls: ThreadCall[]) => calls.map((c) => c.call);
  const cl = {
    prlimit: () => ok({ soft: 1024, hard: 1024 }),
    setDumpable: (on: boolean) => (steps.push({ step: `dumpable ${on}` }), ok(undefined)),
    installSeccomp: (_p: Buffer, flags = 0) => (steps.push({ step: 'seccomp', flags }), ok(undefined)),
    everyThread: (calls: ThreadCall[]) => {
      steps.push({ step: 'everyThread', calls: names(calls) });
      return fail.everyThread ? sysError(fail.everyThread, 1) : ok(3);
    },
    thisThread: (calls: ThreadCall[]) => (steps.push({ step: 'thisThread', calls: names(calls) }), ok(undefined)),
  } as unknown as ContainerLibc;
  return { cl, steps };
}

const caps = (names: string[]) => ({ bounding: names, effective: names, permitted: names, inheritable: [], ambient: [] });
const spec = (over: Partial<ProcessSpec>): ProcessSpec => ({
  env: null, cwd: null, user: null, groupAdd: [], rlimits: [], caps: caps(['KILL', 'CHOWN']), noNewPrivs: true,
  seccomp: Buffer.alloc(8).toString('base64'), programMustExist: true, ...over,
});

describe("dropPrivileges: the workload's privileges, in runc's order", () => {
  it('the init: every thread drops the bounding set, then capset; no_new_privs, then the filter on all threads at once (TSYNC)', () => {
    const { cl, steps } = recorder();
    const r = dropPrivileges(spec({}), cl, { everyThread: true, first: [{ call: 'write(/x/tasks)', nr: 1, args: [] }] });
    expect(r.ok).toBe(true);
    expect(steps.map((s) => s.step)).toEqual(['dumpable false', 'everyThread', 'seccomp']);
    const calls = steps[1].calls!;
    expect(calls[0]).toBe('write(/x/tasks)'); // the cgroup joins first, while still root
    expect(calls.filter((c) => c.startsWith('prctl(PR_CAPBSET_DROP')).length).toBeGreaterThan(30);
    expect(calls.indexOf('capset')).toBeGreaterThan(calls.lastIndexOf(calls.find((c) => c.startsWith('prctl(PR_CAPBSET_DROP'))!));
    expect(calls.at(-1)).toBe('prctl(PR_SET_NO_NEW_PRIVS)');
    expect(calls).not.toContain('setresuid'); // no user asked for: ids untouched
    expect(steps[2].flags! & SECCOMP_FILTER_FLAG_TSYNC).toBe(SECCOMP_FILTER_FLAG_TSYNC);
  });

  it('without no_new_privs the filter goes first (installing it needs CAP_SYS_ADMIN, which the calls may drop)', () => {
    const { cl, steps } = recorder();
    expect(dropPrivileges(spec({ noNewPrivs: false }), cl, { everyThread: true }).ok).toBe(true);
    expect(steps.map((s) => s.step)).toEqual(['dumpable false', 'seccomp', 'everyThread']);
    expect(steps[2].calls).not.toContain('prctl(PR_SET_NO_NEW_PRIVS)');
  });

  it('a user: keep-caps around setgroups, setresgid, setresuid, then capset', () => {
    const { cl, steps } = recorder();
    expect(dropPrivileges(spec({ user: { user: '65534', group: '65534' } }), cl, { everyThread: true }).ok).toBe(true);
    const calls = steps.find((s) => s.step === 'everyThread')!.calls!.filter((c) => !c.startsWith('prctl(PR_CAPBSET_DROP'));
    expect(calls).toEqual(['prctl(PR_SET_KEEPCAPS)', 'setgroups', 'setresgid', 'setresuid', 'prctl(PR_SET_KEEPCAPS)', 'capset', 'prctl(PR_SET_NO_NEW_PRIVS)']);
  });

  it("the exec verb: its own thread alone, the filter without TSYNC", () => {
    const { cl, steps } = recorder();
    expect(dropPrivileges(spec({}), cl).ok).toBe(true);
    expect(steps.map((s) => s.step)).toEqual(['dumpable false', 'thisThread', 'seccomp']);
    expect(steps[2].flags! & SECCOMP_FILTER_FLAG_TSYNC).toBe(0);
  });

  it('a call that fails on a thread is named once, and nothing follows it', () => {
    const { cl, steps } = recorder({ everyThread: 'capset' });
    const r = dropPrivileges(spec({}), cl, { everyThread: true });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(render(r.error)).toBe("setting up the workload's process: capset failed: EPERM");
    expect(steps.map((s) => s.step)).toEqual(['dumpable false', 'everyThread']);
  });
});
