'use strict';
/*
 * The single-executable binary's main script (see build/build.mjs). It runs the
 * bundle (SEA asset main.cjs) as Node would run a CommonJS main, with a V8 code
 * cache (asset main.cache) that the build made by running the init once: the
 * cache holds the bytecode of every function that start-up, forwarding a
 * signal, reaping and exiting ran, so none of them is compiled again on any
 * start. (The SEA's own useCodeCache covers the top level only: every function
 * that runs is still compiled when first called, about 3 ms per start;
 * test/bench/NOTES.md.) If V8 rejects the cache (another V8 or other V8 flags),
 * the bundle is compiled as it would be without one.
 */
// NODE_DEBUG is the program's, not the init's (src/main.ts says why). Node 26
// logs from the first require below already, so its categories are cleared
// before any: getBuiltinModule reaches the internal module without require
// (the binary runs with --expose-internals).
if (process.env.NODE_DEBUG) process.getBuiltinModule('internal/util/debuglog')?.initializeDebugEnv('');
const { getAsset, getRawAsset } = require('node:sea');
const { Script } = require('node:vm');

const filename = process.execPath;
const args = process.argv.slice(2);
/**
 * Which bundle: the plain init (tini's command line) has one of its own,
 * init.cjs, with none of the runtime's code to parse, and so has the
 * container's init (`__run-init`: run-init.cjs, none of
 * the launcher's and the verbs' code); every other mode runs main.cjs. This
 * mirrors src/main.ts's dispatch: a mode word (src/modes.ts), a runc global
 * flag first, or a name with `runc` in it is not the plain init.
 */
const MODE_WORDS = new Set(['check', 'doctor', 'oci', 'run', '__run-init']);
const RUNTIME_FLAG = /^--?(root|log|log-format|systemd-cgroup|criu|rootless)(=|$)/;
const plainInit = !MODE_WORDS.has(args[0] ?? '') && !RUNTIME_FLAG.test(args[0] ?? '') && !((process.argv0 ?? '').split('/').pop() ?? '').includes('runc');
const asset = (name) => {
  try {
    return getRawAsset(name);
  } catch {
    return null; // not in this build
  }
};
const runInit = (args[0] ?? '').startsWith('__run-');
/** The init's third argument when it builds a root filesystem (src/runtime/init-protocol.ts). */
const ROOTFS_WORD = 'rootfs';
const scriptName = plainInit && asset('init.cjs') ? 'init.cjs' : runInit && asset('run-init.cjs') ? 'run-init.cjs' : 'main.cjs';
/**
 * Its V8 code cache, made at build time: main.cache by running the plain
 * init once (for init.cjs, or main.cjs in a build without the split); the
 * runtime's by running `tini-ts run` (run.cache: the launcher and every other
 * main.cjs mode; run-init.cache: the init it starts in the namespaces, for
 * run-init.cjs), and by running `tini-ts run --bundle` (run-bundle.cache: a
 * launcher that plans a bundle; run-init-rootfs.cache: an init that builds a
 * root filesystem, started as `__run-init CHANNEL ADDON rootfs`). A
 * cache only saves compiling: V8 checks it against the source, whichever is
 * taken.
 */
function cacheFor() {
  if (scriptName !== 'init.cjs' && (args[0] ?? '') !== '' && !plainInit) {
    const own = (bundleRun() && asset('run-bundle.cache')) || (runInit && args[3] === ROOTFS_WORD && asset('run-init-rootfs.cache')) || asset(runInit ? 'run-init.cache' : 'run.cache');
    if (own && own.byteLength) return own;
  }
  return asset('main.cache') ?? new ArrayBuffer(0);
}
/**
 * A launcher that plans a bundle (`run --bundle`, OCI create): its own cache,
 * made by a bundle run, holds config.json's checks and plans, which it runs
 * before it spawns the init. A wrong guess (a program argument that looks
 * like these) costs only speed: every cache is of the same main.cjs.
 */
function bundleRun() {
  return !runInit && args.some((a) => a === '--bundle' || a === '-b' || a.startsWith('--bundle=') || a === 'create');
}
/* build: the first stage's cache writer goes here */
/**
 * `run` and OCI `create`: the container's init is spawned first, by a small
 * bundle of its own (early.cjs, src/early-main.ts, with its cache
 * early.cache), so that its Node start-up overlaps this one's loading of
 * main.cjs; main.cjs claims it, or kills and reaps it.
 */
let earlyScript = null;
if (!plainInit && (args[0] === 'run' || bundleRun()) && asset('early.cjs')) {
  try {
    const earlyCache = asset('early.cache');
    earlyScript = new Script(`(function (exports, require, module, __filename, __dirname) {${getAsset('early.cjs', 'utf8')}\n})`, {
      filename,
      cachedData: earlyCache && earlyCache.byteLength ? Buffer.from(earlyCache) : undefined,
    });
    const m = { exports: {} };
    earlyScript.runInThisContext()(m.exports, require, m, filename, require('node:path').dirname(filename));
    m.exports.earlyStart(args);
  } catch {
    // main.cjs spawns as usual
  }
}
const cache = cacheFor();
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${getAsset(scriptName, 'utf8')}\n})`, {
  filename,
  cachedData: cache.byteLength ? Buffer.from(cache) : undefined,
});
const mainModule = { exports: {} };
script.runInThisContext()(mainModule.exports, require, mainModule, filename, require('node:path').dirname(filename));
