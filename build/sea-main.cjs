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
const cache = getRawAsset('main.cache');
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${getAsset('main.cjs', 'utf8')}\n})`, {
  filename,
  cachedData: cache.byteLength ? Buffer.from(cache) : undefined,
});
/* build: the first stage's cache writer goes here */
const mainModule = { exports: {} };
script.runInThisContext()(mainModule.exports, require, mainModule, filename, require('node:path').dirname(filename));
