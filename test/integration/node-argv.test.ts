/**
 * Node scans the binary's whole argv for a few of its own flags before it
 * parses anything (--env-file and --env-file-if-exists, in every form): in
 * the binary they must be nothing but arguments, for the init's program and
 * for `tini-ts run`. (Node stops that scan at the first `--`, which the build
 * puts at the end of the SEA's own flags.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, buildInfo, cleanup, launch, launchWith, requireBinary, tempDir } from '../helpers/proc.js';
import { canRun, hasSyncReturn, RUN_NEEDS, runBin } from './run-helpers.js';
import { unmet } from '../helpers/prereq.js';

beforeAll(() => requireBinary());
afterEach(cleanup);

/** The flags Node looks for in argv before parsing it, as they can be written. */
function nodeScanned(file: string): string[][] {
  return [
    ['--env-file', file],
    [`--env-file=${file}`],
    ['--env-file-if-exists', file],
    [`--env-file-if-exists=${file}`],
  ];
}

const PRINT_ARGS = ['/bin/sh', '-c', 'printf "<%s>" "$@"; printf "FROM_FILE=%s" "${FROM_FILE-unset}"', 'sh'];

describe('Node flags in the binary\'s argv are arguments', () => {
  const dir = () => {
    const d = tempDir();
    const envFile = path.join(d, 'vars.env');
    fs.writeFileSync(envFile, 'FROM_FILE=loaded\nNODE_OPTIONS=--require /nonexistent.js\n');
    return { missing: path.join(d, 'missing.env'), envFile };
  };

  it.each(['missing', 'existing'] as const)('the init, without `--`: the program gets them (%s file), Node does nothing', async (which) => {
    const d = dir();
    const file = which === 'missing' ? d.missing : d.envFile;
    for (const flag of nodeScanned(file)) {
      for (const args of [['-s', ...PRINT_ARGS, ...flag], ['-s', '--', ...PRINT_ARGS, ...flag]]) {
        const p = launch(BIN, args);
        const code = await p.exitCode();
        expect({ args, code, stdout: p.stdout(), stderr: p.stderr() }).toEqual({
          args, code: 0, stdout: flag.map((a) => `<${a}>`).join('') + 'FROM_FILE=unset', stderr: '',
        });
      }
    }
  });

  it('an argv[0] that looks like a Node option is not one', async () => {
    for (const argv0 of ['--print', '--title=x', '-e']) {
      const p = launchWith({ file: BIN, argv: [argv0, '-s', '/bin/echo', 'ran'] });
      const code = await p.exitCode();
      expect({ argv0, code, stdout: p.stdout(), stderr: p.stderr() }).toEqual({ argv0, code: 0, stdout: 'ran\n', stderr: '' });
    }
  });

  // Pins a known limitation of Node 24 (README): it reads --experimental-config-file
  // from anywhere in argv, past `--`, before any JavaScript runs. Node 26 no
  // longer does: there the flag is the program's, like the others above.
  it('--experimental-config-file in the program\'s arguments: read by Node 24 (known limitation), the program\'s with Node 26', async () => {
    const d = dir();
    const flag = `--experimental-config-file=${d.missing}`;
    const p = launch(BIN, ['-s', '--', '/bin/echo', flag]);
    if (Number(/^v(\d+)\./.exec(buildInfo().node)?.[1]) < 26) {
      expect(await p.exitCode()).toBe(9);
      expect(p.stdout()).toBe('');
    } else {
      expect(await p.exitCode(), p.stderr()).toBe(0);
      expect(p.stdout()).toBe(`${flag}\n`);
    }
  });

  describe.skipIf(unmet(canRun, RUN_NEEDS))('tini-ts run', () => {
    it('--env-file is the launcher\'s own option: a missing file is its one line and 125, not Node\'s exit 9', () => {
      const d = dir();
      for (const flag of [['--env-file', d.missing], [`--env-file=${d.missing}`]]) {
        const r = runBin(['run', '-q', ...flag, '--', 'true']);
        expect(r.status, hasSyncReturn(r)).toBe(125);
        expect(r.stderr).toBe(`tini-ts run: --env-file: cannot read ${d.missing}: ENOENT\n`);
      }
    });

    it('--env-file-if-exists is not an option of run (a usage error), and Node never reads the file', () => {
      const d = dir();
      for (const flag of [['--env-file-if-exists', d.envFile], [`--env-file-if-exists=${d.envFile}`]]) {
        const r = runBin(['run', '-q', ...flag, '--', 'true']);
        expect(r.status, hasSyncReturn(r)).toBe(125);
        expect(r.stderr).toMatch(/^tini-ts run: unknown option '--env-file-if-exists[^\n]*\n$/);
      }
    });

    it('--env-file after `--` belongs to the workload; the workload sees only what run passes', () => {
      const d = dir();
      for (const flag of nodeScanned(d.envFile)) {
        const r = runBin(['run', '-q', '--', ...PRINT_ARGS, ...flag]);
        expect(r.status, hasSyncReturn(r)).toBe(0);
        expect(r.stdout).toBe(flag.map((a) => `<${a}>`).join('') + 'FROM_FILE=unset');
        expect(r.stderr).toBe('');
      }
    });
  });
});
