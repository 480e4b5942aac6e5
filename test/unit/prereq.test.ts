/**
 * test/helpers/prereq.ts: with CI=true a missing prerequisite is a failing
 * test, unless the skip is on the allowed list; without CI it is a skip.
 * Checked on real vitest runs of two small test files.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '../..');
const helper = path.join(repo, 'test/helpers/prereq.ts');
let dir: string;

const suite = (allowed: string) => `
import { describe, expect, it } from 'vitest';
import { unmet } from ${JSON.stringify(helper)};
describe.skipIf(unmet(false, 'a thing this machine lacks'${allowed}))('needs it', () => {
  it('uses it', () => expect(1).toBe(1));
});
`;

interface Json { testResults: { name: string; assertionResults: { title: string; status: string; failureMessages: string[] }[] }[] }

function vitest(ci: boolean): { status: number | null; json: Json } {
  const out = path.join(dir, `out-${ci}.json`);
  const env = { ...process.env };
  delete env.CI;
  if (ci) env.CI = 'true';
  const r = spawnSync(process.execPath, [path.join(repo, 'node_modules/vitest/vitest.mjs'), 'run', '--root', dir, '--reporter=json', `--outputFile=${out}`], {
    encoding: 'utf8', env, timeout: 120_000,
  });
  return { status: r.status, json: JSON.parse(fs.readFileSync(out, 'utf8')) as Json };
}

const results = (j: Json, file: string) => j.testResults.find((f) => f.name.endsWith(file))!.assertionResults.map((a) => `${a.status}: ${a.title}`);

describe('prerequisites: no silent skips in CI', () => {
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-prereq-'));
    fs.writeFileSync(path.join(dir, 'unlisted.test.ts'), suite(''));
    fs.writeFileSync(path.join(dir, 'allowed.test.ts'), suite(", 'cgroup-v2-on-v1-host'"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('CI=true: an unlisted missing prerequisite fails, naming it; an allowed one skips', () => {
    const r = vitest(true);
    expect(r.status).toBe(1);
    expect(results(r.json, 'unlisted.test.ts')).toEqual(['failed: missing prerequisite: a thing this machine lacks', 'skipped: uses it']);
    expect(results(r.json, 'allowed.test.ts')).toEqual(['skipped: uses it']);
  });

  it('without CI: both skip', () => {
    const r = vitest(false);
    expect(r.status).toBe(0);
    expect(results(r.json, 'unlisted.test.ts')).toEqual(['skipped: uses it']);
    expect(results(r.json, 'allowed.test.ts')).toEqual(['skipped: uses it']);
  });
});
