/**
 * The command line as a user sees it: --version, -h, and a bad option that
 * must stop the init before it runs anything.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, buildInfo, cleanup, launch, requireBinary, tempDir } from '../helpers/proc.js';

beforeAll(() => requireBinary());
afterEach(cleanup);

async function run(args: string[]) {
  const p = launch(BIN, args);
  const code = await p.exitCode();
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

describe('cli', () => {
  it('--version prints exactly one line in tini\'s format (docker info parses it)', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.endsWith('\n')).toBe(true);
    const lines = r.stdout.slice(0, -1).split('\n');
    expect(lines).toHaveLength(1);
    // The architecture is the binary's (a qemu-run arm64 binary says arm64).
    const arch = { x64: 'amd64', arm64: 'arm64' }[buildInfo().arch];
    expect(lines[0]).toMatch(new RegExp(`^tini version \\d+\\.\\d+\\.\\d+ \\(tini-ts linux/${arch}\\) - git\\.(?:[0-9a-f]{7}(?:-dirty)?|unknown)$`));
  });

  it('-h prints the usage on stdout and exits 0', async () => {
    for (const flag of ['-h', '--help']) {
      const r = await run([flag]);
      expect(r.code, flag).toBe(0);
      expect(r.stderr, flag).toBe('');
      expect(r.stdout, flag).toMatch(/Usage: tini-ts \[OPTIONS\] \[--\] PROGRAM/);
      expect(r.stdout, flag).toMatch(/--grace/);
    }
  });

  it.each([['--bogus'], ['-Z'], ['-sZ']])('unknown option %s: one line on stderr, exit 1, the program never runs', async (opt) => {
    const dir = tempDir();
    const marker = path.join(dir, 'ran');
    const r = await run([opt, '--', 'sh', '-c', `touch ${marker}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.endsWith('\n')).toBe(true);
    expect(r.stderr.slice(0, -1).split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(opt === '--bogus' ? '--bogus' : '-Z');
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('no program: usage error, exit 1', async () => {
    const r = await run([]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toBe('');
  });
});
