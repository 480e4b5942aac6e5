/**
 * The acceptance suite's 66 scenarios, run with the event stream on (a tiny C
 * wrapper adds `--events FILE` and execs dist/tini-ts, so the init still is
 * PID 1 and sees the suite's environment unchanged). Every scenario must still
 * pass, and every stream must be schema-valid and consistent with itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { validate } from '../../src/events/validate.js';
import { exitCodeFor } from '../../src/supervisor/core.js';
import { unmet } from '../helpers/prereq.js';

const root = path.resolve(import.meta.dirname, '../..');
const INIT = path.join(root, 'dist/tini-ts');
const SUITE = '/work/shared/acceptance/run.py';
const schema = JSON.parse(fs.readFileSync(path.join(root, 'src/events/events.schema.json'), 'utf8'));
const ok = process.getuid?.() === 0 && fs.existsSync(INIT) && fs.existsSync(SUITE);

const WRAPPER = `
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
    char path[512]; struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(path, sizeof path, "%s/ev-%d-%lld.jsonl", EVDIR, (int)getpid(), (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    char **a = calloc(argc + 3, sizeof *a);
    a[0] = INIT; a[1] = "--events"; a[2] = path;
    for (int i = 1; i < argc; i++) a[i + 2] = argv[i];
    execv(INIT, a); perror("execv"); return 127;
}
`;

describe.skipIf(unmet(ok, `root, dist/tini-ts and the shared acceptance suite at ${SUITE}`, fs.existsSync(SUITE) ? undefined : 'acceptance-suite-outside-repo'))('acceptance scenarios with --events', () => {
  it('all pass, and every stream is valid and consistent', { timeout: 240_000 }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'events-acc-'));
    fs.chmodSync(dir, 0o755);
    const evdir = path.join(dir, 'ev');
    fs.mkdirSync(evdir, { mode: 0o1777 });
    fs.chmodSync(evdir, 0o1777);
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'wrap.c'), WRAPPER);
    const wrapper = path.join(bin, 'tini-ts');
    // A copy in this world-readable directory: the non-root scenarios exec it
    // as another user, who may not reach the clone (under a 0700 home).
    const init = path.join(dir, 'tini-ts');
    fs.copyFileSync(INIT, init);
    fs.chmodSync(init, 0o755);
    // and its addon beside it, as dist/ has it (read-only scenarios load it from there)
    for (const f of fs.readdirSync(path.dirname(INIT)).filter((n) => /^tini-ts-koffi-.*\.node$/.test(n))) fs.copyFileSync(path.join(path.dirname(INIT), f), path.join(dir, f));
    execFileSync('gcc', ['-O2', `-DEVDIR="${evdir}"`, `-DINIT="${init}"`, '-o', wrapper, path.join(dir, 'wrap.c')]);
    let r = spawnSync('python3', [SUITE, '--init', wrapper, '--flavor', 'tini-ts'], { encoding: 'utf8', timeout: 200_000 });
    const failed = [...r.stdout.matchAll(/^FAIL\s+(\S+?):?\s/gm)].map((m) => m[1]);
    // One retry of what failed (the suite's timing under a loaded 2-core VM).
    if (failed.length > 0) {
      r = spawnSync('python3', [SUITE, '--init', wrapper, '--flavor', 'tini-ts', ...failed.flatMap((f) => ['-k', f])], { encoding: 'utf8', timeout: 100_000 });
      expect(r.stdout).toMatch(new RegExp(`^${failed.length} passed, 0 failed`, 'm'));
    } else {
      expect(r.stdout).toMatch(/^66 passed, 0 failed, 0 skipped/m);
    }

    const files = fs.readdirSync(evdir);
    expect(files.length).toBeGreaterThan(50);
    const counts: Record<string, number> = {};
    for (const f of files) {
      const text = fs.readFileSync(path.join(evdir, f), 'utf8');
      if (text === '') continue; // usage errors and --help: no program, no stream
      const evs = text.split('\n').slice(0, -1).map((l) => JSON.parse(l));
      for (const e of evs) {
        expect(validate(schema, e), `${f}: ${JSON.stringify(e)}`).toEqual([]);
        counts[e.event] = (counts[e.event] ?? 0) + 1;
      }
      expect(evs.map((e) => e.seq)).toEqual(evs.map((_, i) => i));
      expect(evs[0].event).toBe('start');
      const spawn = evs.find((e) => e.event === 'spawn');
      const exit = evs.find((e) => e.event === 'exit');
      const reaps = evs.filter((e) => e.event === 'reap');
      expect(new Set(reaps.map((e) => e.pid)).size, f).toBe(reaps.length);
      if (!spawn) {
        if (exit) expect(exit.reason).toBe('exec-failed');
        continue;
      }
      expect(spawn.pgid).toBe(spawn.pid);
      const main = reaps.filter((e) => e.main);
      expect(main.length).toBeLessThanOrEqual(1);
      for (const e of reaps) expect(e.main).toBe(e.pid === spawn.pid);
      if (exit && exit.reason !== 'exec-failed') {
        // The init's code is the main child's status, remapped by -e.
        expect(main.length, f).toBe(1);
        expect(exit.code).toBe(exitCodeFor(main[0].status, new Set(evs[0].options.expected_codes)));
        expect(exit.dropped).toBe(0);
      }
      // Every forward answers a signal received before it; SIGCHLD is never forwarded.
      for (const fw of evs.filter((e) => e.event === 'forward')) {
        expect(fw.signo).not.toBe(17);
        expect(evs.some((e) => e.event === 'signal' && e.signo === fw.signo && e.seq < fw.seq)).toBe(true);
      }
      for (const g of evs.filter((e) => e.event === 'grace')) expect([2, 15]).toContain(g.signo);
    }
    // The suite causes every kind of event.
    for (const k of ['start', 'spawn', 'signal', 'forward', 'reap', 'grace', 'escalate', 'exit']) expect(counts[k], k).toBeGreaterThan(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
