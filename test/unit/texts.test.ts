import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LICENSE, unsupportedArch, USAGE, VERSION_LINE } from '../../src/texts.js';

/** moby's parseInitVersion (daemon/info_unix.go), which `docker info` runs on `docker-init --version`. */
function parseInitVersion(v: string): { version: string; commit: string } {
  const parts = v.split(' - ');
  let commit = '';
  if (parts.length >= 2) {
    const git = parts[1].trim().split('.');
    if (git.length === 2 && git[0] === 'git') commit = git[1];
  }
  const head = parts[0].trim();
  const version = head.startsWith('tini version ') ? head.slice('tini version '.length) : '';
  if (!version && !commit) throw new Error(`unknown output format: ${v}`);
  return { version, commit };
}

describe('texts', () => {
  it('--version parses as docker info parses docker-init', () => {
    const { version, commit } = parseInitVersion(VERSION_LINE);
    expect(version).toMatch(/^\d+\.\d+\.\d+(-dev)? \(tini-ts linux\/(amd64|arm64)\)$/);
    expect(version).toContain(`linux/${{ x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64']}`);
    expect(commit).not.toBe('');
    expect(VERSION_LINE).not.toContain('\n');
  });

  it('the license is the repository LICENSE', () => {
    expect(LICENSE).toBe(fs.readFileSync(new URL('../../LICENSE', import.meta.url), 'utf8'));
  });

  it('the help names every flag and variable', () => {
    for (const f of ['--grace', '-s', '-p SIGNAL', '-e EXIT_CODE', '-g', '-v', '-w', '-l', '-h', '--version',
      '--stop-delay SECONDS', '--timeout DURATION', '--map FROM:TO', 'TINI_STOP_DELAY', 'TINI_TIMEOUT', 'TINI_MAP', '--termination-log FILE', 'TINI_TERMINATION_LOG',
      '--stop-scope group|all', 'TINI_STOP_SCOPE', '--exit-on-stop CODE', 'TINI_EXIT_ON_STOP', '--pre-stop CMD', 'TINI_PRE_STOP', '--user USER[:GROUP]', 'TINI_USER',
      'TINI_SUBREAPER', 'TINI_KILL_PROCESS_GROUP', 'TINI_VERBOSITY', 'TINI_GRACE']) {
      expect(USAGE).toContain(f);
    }
    expect(USAGE).toMatch(/^Usage: tini-ts/m);
  });

  it('an architecture the binary is not built for is refused in one line naming it', () => {
    expect(unsupportedArch('x64', 'linux')).toBeUndefined();
    expect(unsupportedArch('arm64', 'linux')).toBeUndefined();
    for (const a of ['riscv64', 'ppc64', 's390x', 'arm', 'ia32']) {
      expect(unsupportedArch(a, 'linux')).toBe(`tini-ts is built for linux/amd64 and linux/arm64 only, not ${a}`);
    }
    expect(unsupportedArch('x64', 'darwin')).toBe('tini-ts runs on Linux only, not darwin');
  });
});
