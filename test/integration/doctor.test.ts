/**
 * `tini-ts doctor ROOTDIR` as a user runs it: the host's root can run the
 * binary (it just did), an empty directory cannot (the loader is named), and
 * bad usage is one line with exit 2. The verdicts on prepared roots are in
 * test/unit/doctor.test.ts.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, buildInfo, cleanup, launch, requireBinary, tempDir } from '../helpers/proc.js';

beforeAll(() => requireBinary());
afterEach(cleanup);

async function doctor(args: string[]) {
  const p = launch(BIN, ['doctor', ...args]);
  const code = await p.exitCode();
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

const ARCH = () => ({ x64: 'amd64', arm64: 'arm64' })[buildInfo().arch];

describe('tini-ts doctor', () => {
  it("the host's own root: yes, exit 0, every library named (another architecture's binary, under qemu: which one to use)", async () => {
    if (buildInfo().arch !== process.arch) {
      // qemu-user's -L maps paths under / to its sysroot: /proc/self/root is the host's / without that.
      const r = await doctor(['/proc/self/root']);
      const host = { x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64'];
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`^wrong .* this is a linux/${host} image \\(use tini-ts-linux-${host}\\)\n`));
      return;
    }
    const r = await doctor(['/']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^ok {7}dynamic loader \/lib/);
    expect(r.stdout).toMatch(/\nok {7}libc\.so\.6 \S+ \(has GLIBC_2\.\d+\)\n/);
    expect(r.stdout).toMatch(/\nok {7}libstdc\+\+\.so\.6 /);
    expect(r.stdout.endsWith(`\nyes: / can run tini-ts linux/${ARCH()}\n`)).toBe(true);
  });

  it('an empty directory (scratch): no, exit 1, the missing loader first', async () => {
    const dir = tempDir('tini-ts-doctor-');
    const r = await doctor([dir]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^missing  dynamic loader \/lib\S*ld-linux-\S+: the kernel would say only "no such file or directory"/);
    expect(lines).toContain('missing  libc.so.6');
    expect(lines.at(-1)).toBe(`no: ${dir} cannot run tini-ts linux/${ARCH()}`);
  });

  it('bad usage: one line on stderr, exit 2', async () => {
    for (const [args, text] of [[[], 'a ROOTDIR is needed'], [['/nonexistent-tini-ts'], '/nonexistent-tini-ts is not a directory'], [['/', '/'], 'one ROOTDIR only']] as const) {
      const r = await doctor([...args]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^tini-ts doctor: ${text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*\\n$`));
    }
  });
});
