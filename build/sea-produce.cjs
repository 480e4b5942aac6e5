/*
 * Only in the build's first-stage binary (build/build.mjs inserts this into
 * sea-main.cjs, before the bundles are loaded: koffi's first load is hooked):
 * write the code cache of everything that ran, just before the process ends. The init leaves through koffi's _exit (no 'exit' event), so the
 * _exit that the libc binding declares is wrapped too.
 */
{
  // The init that `run` starts has an environment of its own and the
  // launcher's working directory: it writes its cache there (the build runs
  // `run` in a directory of dist/), through a descriptor opened now, as a
  // root filesystem hides the host's by the time it ends.
  const fs = require('node:fs');
  const out = process.env.TINI_TS_BUILD_CODE_CACHE ?? (process.argv[2] === '__run-init' ? `${process.cwd()}/run-init.cache` : undefined);
  const fd = out && process.argv[2] === '__run-init' ? fs.openSync(out, 'w') : null;
  let written = false;
  const write = () => {
    if (written || !out) return;
    written = true;
    fs.writeFileSync(fd ?? out, script.createCachedData());
    // `run`'s early bundle (sea-main.cjs): its cache beside the launcher's.
    if (earlyScript && !fd) fs.writeFileSync(`${out}.early`, earlyScript.createCachedData());
  };
  process.on('exit', write);
  const dlopen = process.dlopen;
  process.dlopen = function (module, ...rest) {
    const r = dlopen.call(this, module, ...rest);
    const koffi = module.exports;
    const load = koffi && koffi.load;
    if (typeof load === 'function') {
      koffi.load = function (...args) {
        const lib = load.apply(this, args);
        const func = lib.func;
        Object.defineProperty(lib, 'func', {
          value(...decl) {
            const fn = func.apply(this, decl);
            return typeof decl[0] === 'string' && /\b_exit\s*\(/.test(decl[0]) ? (...a) => (write(), fn(...a)) : fn;
          },
        });
        return lib;
      };
    }
    return r;
  };
}
