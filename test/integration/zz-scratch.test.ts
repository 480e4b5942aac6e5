import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { it } from 'vitest';
import { startDocker, traceWrapper } from '../helpers/docker.js';
import { makeGlibcRootfs } from '../helpers/rootfs.js';
import { BIN } from './run-helpers.js';
it('scratch', async () => {
  const traceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-docker-trace-'));
  const trace = traceWrapper(traceDir, 'tini-ts-trace', BIN);
  const d = await startDocker({ runtimes: { 'tini-ts': BIN, 'tini-ts-trace': trace.path }, initPath: BIN });
  try {
    const rootfs = makeGlibcRootfs(path.join(d.dir, 'rootfs'), BIN);
    spawnSync('tar', ['--numeric-owner', '-C', rootfs, '-cf', path.join(d.dir, 'rootfs.tar'), '.']);
    d.docker(['import', path.join(d.dir, 'rootfs.tar'), 'x:1']);
    for (const a of (process.env.SCRATCH ?? '').split('|')) {
      const r = d.docker(['run', '--rm', '--runtime', 'tini-ts-trace', '--network', 'none', ...a.split(' ')]);
      console.log(a, '=>', r.status, r.stdout, r.stderr);
    }
    console.log(trace.calls().map((c) => `${c.rc} ${c.argv.slice(0, 200)}`).join('\n'), trace.logs().join('\n'));
  } finally {
    console.log(await d.stop());
    fs.rmSync(traceDir, { recursive: true });
  }
}, 120000);
