/** For the unit tests' fake cgroupfs trees, each in a temporary directory of its own. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';

/** Writes a fake cgroup file, its directories made first. */
export function put(file: string, text = ''): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

export const read = (file: string): string => fs.readFileSync(file, 'utf8');

/** A new temporary directory (named PREFIX...) before each test, handed to `set`, removed after the test. */
export function eachTempDir(prefix: string, set: (dir: string) => void): void {
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    set(dir);
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
}
