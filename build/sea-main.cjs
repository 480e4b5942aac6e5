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
/**
 * The runtime's processes have caches of their own, made by running `tini-ts
 * run` at build time (their functions are not the plain init's): the launcher
 * (`run`, and an OCI call, whose `create` is the launcher), and the init it
 * starts in the namespaces (both stages run the same supervision). Any other
 * mode, or a build that could not make them, takes the init's. A cache only
 * saves compiling: V8 checks it against the source, whichever is taken.
 */
function cacheFor(args) {
  const mode = args[0] ?? '';
  const own = mode === 'run' || /^--?(root|log|log-format|systemd-cgroup|criu|rootless)(=|$)/.test(mode) ? 'run.cache' : mode.startsWith('__run-') ? 'run-init.cache' : null;
  if (own) {
    try {
      const bytes = getRawAsset(own);
      if (bytes.byteLength) return bytes;
    } catch {
      // not in this build
    }
  }
  return getRawAsset('main.cache');
}
const cache = cacheFor(process.argv.slice(2));
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${getAsset('main.cjs', 'utf8')}\n})`, {
  filename,
  cachedData: cache.byteLength ? Buffer.from(cache) : undefined,
});
/* build: the first stage's cache writer goes here */
const mainModule = { exports: {} };
script.runInThisContext()(mainModule.exports, require, mainModule, filename, require('node:path').dirname(filename));
