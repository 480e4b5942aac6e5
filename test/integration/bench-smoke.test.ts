/**
 * The benchmark script (test/bench/bench.mjs, `npm run bench`) must not rot:
 * its --quick mode runs every metric group for every init in a few seconds,
 * and the JSON it writes must carry every metric for every init, and a ratio
 * and a verdict for every floor. No timing is asserted: the figures belong to
 * the machine, not to the test.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, requireBinary, tempDir } from '../helpers/proc.js';

beforeAll(() => requireBinary());

const METRICS = [
  'startup_plain',
  'startup_pid1',
  'startup_env',
  'rss_peak',
  'rss_anon',
  'threads',
  'signal_latency',
  'reap_tail',
  'reap_total',
  'reap_init_cpu',
  'exit_latency_plain',
  'exit_latency_pid1',
  'binary_size', 'binary_size_gzip',
];
const INITS = ['tini-ts', 'tini', 'dumb-init', 'catatonit'];
const FLOOR_METRICS = [
  'startup_plain',
  'startup_pid1',
  'startup_env',
  'rss_anon',
  'threads',
  'signal_latency', // median
  'signal_latency', // p99
  'exit_latency_plain',
  'exit_latency_pid1',
  'reap_init_cpu',
  'reap_tail',
];

interface Summary {
  n: number;
  median?: number;
  error?: string;
}

describe('npm run bench -- --quick', () => {
  it('measures every metric for every init and judges every floor', () => {
    const out = path.join(tempDir('tini-ts-bench-'), 'bench.json');
    const md = path.join(path.dirname(out), 'bench.md');
    const r = spawnSync(
      process.execPath,
      [path.join(ROOT, 'test/bench/bench.mjs'), '--quick', '--tini-ts', BIN, '--json', out, '--markdown', md],
      { cwd: ROOT, encoding: 'utf8', timeout: 150_000 },
    );
    expect(r.status, `bench exited ${r.status} (${r.signal ?? 'no signal'}):\n${r.stderr}`).toBe(0);

    const report = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      metric_keys: string[];
      inits: { label: string }[];
      metrics: Record<string, Record<string, Summary>>;
      floors: { metric: string; ratio: number | null; pass: boolean }[];
    };
    expect(report.metric_keys).toEqual(METRICS);
    expect(report.inits.map((i) => i.label)).toEqual(INITS);
    for (const key of METRICS) {
      for (const init of INITS) {
        const m = report.metrics[key]?.[init];
        expect(m, `${key} / ${init}`).toBeDefined();
        expect(m.error, `${key} / ${init}`).toBeUndefined();
        expect(m.n, `${key} / ${init}`).toBeGreaterThan(0);
        expect(typeof m.median, `${key} / ${init}`).toBe('number');
      }
    }
    expect(report.floors.map((f) => f.metric)).toEqual(FLOOR_METRICS);
    for (const f of report.floors) {
      expect(typeof f.ratio, f.metric).toBe('number');
      expect(typeof f.pass, f.metric).toBe('boolean');
    }
    // The table reaches stdout and the markdown file, with a verdict per floor.
    expect(r.stdout).toContain('| start-up+exit `INIT -- /bin/true`, plain |');
    expect(r.stdout.match(/\| (PASS|MISS) \|/g)?.length).toBe(FLOOR_METRICS.length);
    expect(fs.readFileSync(md, 'utf8')).toContain('## Floors');
    // The container runtime's rows (issue 11): each tini-ts case measured, each floor too; a
    // runtime that cannot run the bundle here (crun on a hybrid cgroup host) says why.
    const runtime = (report.metrics as Record<string, Record<string, Summary>>).launcher_startup;
    for (const l of ['tini-ts run -- /bin/true', 'tini-ts run --bundle B', 'tini-ts create + start + delete --force', 'node -e 0 ×2 (sequential)', 'node -e 0 ×4 (sequential)']) {
      expect(runtime?.[l]?.error, l).toBeUndefined();
      expect(runtime?.[l]?.n, l).toBeGreaterThan(0);
    }
    for (const [l, v] of Object.entries(runtime ?? {})) expect(v.n > 0 || typeof v.error === 'string', l).toBe(true);
    expect(r.stdout).toContain('| OCI `create` + `start` + `delete --force` of B |');
  }, 180_000);
});
