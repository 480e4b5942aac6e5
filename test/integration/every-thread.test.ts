/**
 * The handler that makes every thread of the container's init take the
 * workload's privileges (src/libc/every-thread.ts), run alone on both
 * architectures (helpers/integration/every_thread_harness.c; arm64 under
 * qemu-user): each of six threads, five of them blocked in the kernel, runs
 * the calls; a failing call is named with its errno; a tolerated one is not.
 * What it does inside the init is checked by run-init-privileges.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HANDLER_CODE } from '../../src/libc/every-thread.js';
import { cleanup, compiledHelper, tempDir } from '../helpers/proc.js';

afterEach(cleanup);

const HELPERS = path.resolve(__dirname, '../helpers/integration');

function args(arch: 'x64' | 'arm64'): string[] {
  const c = HANDLER_CODE[arch];
  expect(c.hex.length / 2).toBe(c.data + 8); // the data-page word ends the code
  const f = path.join(tempDir('tini-ts-every-thread-'), `${arch}.code`);
  fs.writeFileSync(f, Buffer.from(c.hex, 'hex'));
  return [f, String(c.restorer), String(c.data)];
}

describe('the every-thread handler alone: six threads run the calls; failures named, tolerated errnos not', () => {
  it('x64, natively', () => {
    const r = spawnSync(compiledHelper('every_thread_harness'), args('x64'), { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout, `${r.stderr} ${r.status} ${r.signal} ${r.error}`).toBe('ok\n');
    expect(r.status).toBe(0);
  });

  it('arm64, under qemu-user', () => {
    const bin = path.join(tempDir('tini-ts-every-thread-arm64-'), 'every_thread_harness');
    const cc = spawnSync('aarch64-linux-gnu-gcc', ['-O2', '-Wall', '-static', '-pthread', '-o', bin, path.join(HELPERS, 'every_thread_harness.c')], { encoding: 'utf8' });
    expect(cc.status, `aarch64-linux-gnu-gcc (Debian: gcc-aarch64-linux-gnu): ${cc.stderr ?? cc.error}`).toBe(0);
    const r = spawnSync('/usr/bin/qemu-aarch64-static', [bin, ...args('arm64')], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout, `${r.stderr} ${r.status} ${r.signal} ${r.error}`).toBe('ok\n');
    expect(r.status).toBe(0);
  });
});
