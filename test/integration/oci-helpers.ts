/**
 * For the OCI tests: whatever containers a test left under its runtimes'
 * roots are force-deleted (so a failing test leaves nothing running or
 * mounted), and their ids returned for the test to assert there were none.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { BIN } from './run-helpers.js';

export function sweepContainers(roots: { tini?: string; runc?: string }): string[] {
  const left: string[] = [];
  if (roots.tini && fs.existsSync(roots.tini)) {
    for (const id of fs.readdirSync(roots.tini)) {
      left.push(id);
      spawnSync(BIN, ['--root', roots.tini, 'delete', '--force', id], { stdio: 'ignore', timeout: 30_000 });
    }
  }
  if (roots.runc && fs.existsSync(roots.runc)) {
    const ids = spawnSync('runc', ['--root', roots.runc, 'list', '-q'], { encoding: 'utf8', timeout: 30_000 }).stdout ?? '';
    for (const id of ids.split('\n').filter(Boolean)) {
      left.push(`runc:${id}`);
      spawnSync('runc', ['--root', roots.runc, 'delete', '--force', id], { stdio: 'ignore', timeout: 30_000 });
    }
  }
  return left;
}
