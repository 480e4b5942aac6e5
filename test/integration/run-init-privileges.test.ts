/**
 * The init inside a container holds no more than the workload (every thread:
 * capabilities, uid, no_new_privs, seccomp, cgroups), and nothing of the plan
 * is readable from its argv or environment. Checked from inside, through
 * /proc/1/task/N of the init, as a workload that can ptrace would see it.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { unmet } from '../helpers/prereq.js';
import { canContainer, CONTAINER_NEEDS, useContainerFixture } from './container-helpers.js';
import { spawnSync } from 'node:child_process';
import { BIN, hasSyncReturn, processesWith, run, runArgs, start, waitFor } from './run-helpers.js';

/** For each thread of PID 1: the status lines that carry privilege, and its cgroups. */
const threads =
  'for t in /proc/1/task/*; do echo "== $(basename $t) $(grep -E "^(Uid|Gid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" $t/status | tr -d "\\t" | tr "\\n" " ")"; done;' +
  ' echo "== self $(grep -E "^(Uid|Gid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status | tr -d "\\t" | tr "\\n" " ")"';

function privileges(stdout: string): { self: string; init: string[] } {
  const lines = stdout.split('\n').filter((l) => l.startsWith('== '));
  const self = lines.find((l) => l.startsWith('== self '))!.slice('== self '.length);
  const init = lines.filter((l) => !l.startsWith('== self ')).map((l) => l.replace(/^== \d+ /, ''));
  return { self, init };
}

describe.skipIf(unmet(canContainer, CONTAINER_NEEDS))('tini-ts run: the init never outranks the workload', () => {
  const f = useContainerFixture();
  const ctr = (...args: string[]) => run(['-q', '--rootfs', f.rootfs, ...args]);

  for (const [what, args] of [
    ["docker's defaults", []],
    ['with SYS_PTRACE added (a workload that could attach to the init)', ['--cap-add', 'SYS_PTRACE']],
    ['as an unprivileged user', ['--user', '65534:65534']],
    ['with every capability dropped and new privileges allowed', ['--cap-drop', 'ALL', '--new-privileges']],
  ] as const) {
    it(`every thread of PID 1 has exactly the workload's privileges: ${what}`, () => {
      const r = ctr(...args, '--', 'sh', '-c', threads);
      expect(r.status, hasSyncReturn(r)).toBe(0);
      const p = privileges(r.stdout);
      expect(p.init.length).toBeGreaterThanOrEqual(2); // Node's threads are there, and each is checked
      for (const t of p.init) expect(t).toBe(p.self);
    });
  }

  it("every thread of PID 1 is in the workload's cgroups (v1: the devices and pids cgroups included)", () => {
    const r = ctr('--pids', '50', '--', 'sh', '-c', 'for t in /proc/1/task/*; do cat $t/cgroup | sort | tr "\\n" " "; echo; done; echo "self $(sort /proc/self/cgroup | tr "\\n" " ")"');
    expect(r.status, hasSyncReturn(r)).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const self = lines.pop()!.replace(/^self /, '');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l.trim()).toBe(self.trim());
  });

  it("nothing of the plan is in the init's argv or environment (a secret from --env stays out of /proc/1)", () => {
    const secret = `s3cr3t-${process.pid}`;
    const r = ctr('-e', `TOKEN=${secret}`, '--user', '65534', '--', 'sh', '-c', 'tr "\\0" " " </proc/1/cmdline; echo; echo "token=$TOKEN"');
    expect(r.status, hasSyncReturn(r)).toBe(0);
    expect(r.stdout).toContain(`token=${secret}`); // the workload has it
    const cmdline = r.stdout.split('\n')[0];
    expect(cmdline).not.toContain(secret);
    expect(cmdline).not.toContain(f.rootfs); // no host path either
  });

  it('the same seen from the host: /proc/INIT/cmdline and environ hold no secret, and no descriptor of the host stays open', async () => {
    const secret = `h0st-s3cr3t-${process.pid}`;
    const envFile = `${f.dir}/secret.env`;
    fs.writeFileSync(envFile, `TOKEN=${secret}\n`);
    const { child: p, done } = start(['-q', '--rootfs', f.rootfs, '--env-file', envFile, '--', 'sleep', '30']);
    try {
      let seen = '';
      let initPid = 0;
      await waitFor(() => {
        const pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
        const inits = pids.filter((d) => {
          try {
            return fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'tini-ts' && fs.readFileSync(`/proc/${d}/status`, 'utf8').includes(`PPid:\t${p.pid}`);
          } catch {
            return false;
          }
        });
        // Once the workload runs (the init's set-up is over).
        if (inits.length === 0 || fs.readFileSync(`/proc/${inits[0]}/task/${inits[0]}/children`, 'utf8').trim() === '') return false;
        seen = inits.map((d) => fs.readFileSync(`/proc/${d}/cmdline`) + '|' + fs.readFileSync(`/proc/${d}/environ`)).join('\n');
        initPid = Number(inits[0]);
        return true;
      });
      expect(seen).not.toBe('');
      expect(seen).not.toContain(secret);
      expect(seen).not.toContain(envFile);
      // Nothing of the host stays open in the init: no directory (a way out of the root), no file of the host's.
      // Once it has settled (it closes what the spawn needed just after it); one closed meanwhile is gone.
      await new Promise((r) => setTimeout(r, 300));
      const open = fs.readdirSync(`/proc/${initPid}/fd`).flatMap((n) => {
        try {
          return [{ n, to: fs.readlinkSync(`/proc/${initPid}/fd/${n}`), dir: fs.statSync(`/proc/${initPid}/fd/${n}`).isDirectory() }];
        } catch {
          return [];
        }
      });
      expect(open.length).toBeGreaterThan(3); // stdio and Node's own at least: the listing is not vacuous
      expect(open.filter((o) => o.dir)).toEqual([]);
      expect(open.filter((o) => o.to.startsWith('/') && !/^\/dev\/(null|pts\/\d+)$/.test(o.to)).map((o) => o.to)).toEqual([]);
    } finally {
      p.kill('SIGTERM');
      await done;
    }
  });

  it('a program argv of 30000 words (more than fits in the init argv of old) and bytes that are not UTF-8 pass unchanged', () => {
    const words = Array.from({ length: 30000 }, (_, i) => String(i));
    const r = ctr('--', 'sh', '-c', 'echo $#', 'sh', ...words);
    expect(r.status, hasSyncReturn(r)).toBe(0);
    expect(r.stdout.trim()).toBe('30000');
  });

  it('bytes that are not UTF-8 in the program argv reach it unchanged (as the plain init passes them)', () => {
    const cmd = `"${BIN}" ${runArgs(['-q', '--']).join(' ')} printf %s "$(printf '\\377\\376x')" | od -An -tx1`;
    const r = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout.trim(), hasSyncReturn(r)).toBe('ff fe 78');
    // and in the environment given with -e
    const env = `"${BIN}" ${runArgs(['-q', '-e', `X="$(printf '\\377\\376y')"`, '--']).join(' ')} sh -c 'printf %s "$X"' | od -An -tx1`;
    const e = spawnSync('/bin/sh', ['-c', env], { encoding: 'utf8', timeout: 30_000 });
    expect(e.stdout.trim(), hasSyncReturn(e)).toBe('ff fe 79');
  });

  it('a signal sent to the launcher while the init starts ends the run at once (143: forwarded, or the launcher ended by it), and the init ends too', async () => {
    const { child, done } = start(['-q', '--grace', '1', '--rootfs', f.rootfs, '--', 'sleep', '5']);
    // As soon as the init exists, while it is still starting. On x64 it exists before the launcher's
    // own Node has started (build/entry-spawn.c): a TERM then ends the launcher as it ends any
    // program at that point (the shell's 143), and the init reads the end of its channel and exits;
    // once the launcher listens, the TERM is kept and passed on (143 from the container).
    let init = 0;
    const seen = await waitFor(() => {
      try {
        init = Number(fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]);
        return init > 0;
      } catch {
        return false;
      }
    }, 10_000);
    child.kill('SIGTERM');
    const r = await done;
    expect(seen, 'the init appeared').toBe(true);
    expect(r.code === 143 || r.signal === 'SIGTERM', `${r.code} ${r.signal} ${r.stderr}`).toBe(true);
    // Never 125 after seconds, and the init does not outlive it (gone, or a zombie for its new parent).
    const ended = await waitFor(() => {
      try {
        return /^State:\s+Z/m.test(fs.readFileSync(`/proc/${init}/status`, 'utf8'));
      } catch {
        return true;
      }
    }, 30_000);
    expect(ended, `the init ${init} ended`).toBe(true);
  });

  it("a workload that makes the init the OOM killer's victim: reported as the container's OOM end (137), not a launcher failure", () => {
    const r = ctr('-m', '32m', '--report', `${f.dir}/oom.json`, '--', 'sh', '-c', 'echo 1000 >/proc/1/oom_score_adj; head -c 200m /dev/zero | tail >/dev/null');
    expect(r.status, hasSyncReturn(r)).toBe(137);
    expect(JSON.parse(fs.readFileSync(`${f.dir}/oom.json`, 'utf8'))).toMatchObject({ exit_code: 137, oom_killed: true, error: null });
  });

  it('--pids at the kernel maximum works, and -q still prints the launcher own failure line', () => {
    const ok = ctr('--pids', '4194304', '--', 'true');
    expect(ok.status, hasSyncReturn(ok)).toBe(0);
    const bad = ctr('--user', 'nosuchuser', '--', 'true');
    expect(bad.status).toBe(125);
    expect(bad.stderr).toMatch(/^tini-ts run: failed: .*nosuchuser/m);
  });

  it("--ulimit is the workload's alone: a tiny address space and 8 descriptors do not reach the init, which keeps supervising", () => {
    const r = ctr('--ulimit', 'nofile=8:8', '--ulimit', `as=${1 << 30}`, '--user', '65534', '--', 'sh', '-c',
      'echo "self=$(ulimit -n):$(ulimit -Hn) as=$(ulimit -v)"; grep -E "^Max (open files|address space)" /proc/1/limits | tr -s " "; exit 7');
    expect(r.status, hasSyncReturn(r)).toBe(7);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`self=8:8 as=${1 << 20}`);
    expect(lines.find((l) => l.startsWith('Max open files'))).not.toMatch(/ 8 8 /);
    expect(lines.find((l) => l.startsWith('Max address space'))).toMatch(/unlimited unlimited/);
  });

  it('--share pid: a launcher killed with SIGKILL still takes the workload with it (stopped through the grace period)', async () => {
    const marker = `share-pid-${process.pid}-${Date.now()}`;
    const { child, done } = start(['-q', '--share', 'pid', '--grace', '1', '--', 'sh', '-c', `sleep 60; : ${marker}`]);
    expect(await waitFor(() => processesWith(marker).length > 0, 10_000)).toBe(true);
    child.kill('SIGKILL');
    await done;
    expect(await waitFor(() => processesWith(marker).length === 0, 10_000)).toBe(true);
  });
});
