/**
 * Block I/O limits for real: --device-read-bps throttles direct reads of a
 * loop device the test makes (v1 blkio or v2 io.max), and the report carries
 * the limit.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unmet } from '../helpers/prereq.js';
import { canRun, RUN_NEEDS, hasSyncReturn, readReport, run, tmpFile, expectNothingLeftBehind } from './run-helpers.js';

/** A loop device of the test's own (a block device nobody else reads), detached afterwards. */
function loopDevice(): { path: string; major: number; minor: number; cleanup(): void } | null {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-blkio-'));
  const image = path.join(dir, 'disk.img');
  fs.writeFileSync(image, Buffer.alloc(8 << 20));
  const r = spawnSync('losetup', ['--find', '--show', image], { encoding: 'utf8' });
  const dev = r.stdout.trim();
  const cleanup = () => {
    if (dev) spawnSync('losetup', ['--detach', dev]);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  if (r.status !== 0 || !dev.startsWith('/dev/loop')) {
    cleanup();
    return null;
  }
  const rdev = fs.statSync(dev).rdev;
  return { path: dev, major: (rdev >> 8) & 0xfff, minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00), cleanup };
}

const disk = process.getuid?.() === 0 ? loopDevice() : null;
afterAll(() => disk?.cleanup());

describe.skipIf(unmet(canRun && disk !== null, `${RUN_NEEDS}, and a loop device (losetup)`))('tini-ts run: block I/O limits (real)', () => {
  expectNothingLeftBehind();

  it('--device-read-bps throttles direct reads of the disk, and the report says so', () => {
    const report = tmpFile('blkio.json');
    // 3 MiB at 1 MiB/s: two seconds at least, where the device alone takes milliseconds.
    const r = run(['-q', '--report', report, '--device-read-bps', `${disk!.path}:1mb`, '--', 'dd', `if=${disk!.path}`, 'of=/dev/null', 'bs=64k', 'count=48', 'iflag=direct']);
    expect(r.status, hasSyncReturn(r)).toBe(0);
    const j = readReport(report) as { wall_seconds: number; limits: unknown };
    expect(j.limits).toEqual({ blockIO: { throttleReadBpsDevice: [{ major: disk!.major, minor: disk!.minor, rate: 1 << 20 }] } });
    expect(j.wall_seconds).toBeGreaterThan(1.5);
  });

  it('a path that is not a block device is refused in one line before anything starts', () => {
    const r = run(['-q', '--device-write-iops', '/dev/null:10', '--', 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toBe('tini-ts run: --device-write-iops: /dev/null is not a block device\n');
  });
});
