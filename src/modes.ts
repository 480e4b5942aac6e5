/**
 * Sub-commands other than the init. Each is loaded only when used (require
 * inside the function), so the init's start-up never pays for them.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
export const MODES: Readonly<Record<string, (args: string[]) => void>> = {
  check: (args) => (require('./check/main.js') as typeof import('./check/main.js')).runCheck(args),
  // Whether an image's root file system can run this binary (loader, libraries, versions).
  doctor: (args) => (require('./commands/doctor.js') as typeof import('./commands/doctor.js')).runDoctor(args),
  // The OCI runtime (runc's command line): `tini-ts oci create ...`, or as an engine calls it (see main.ts).
  oci: (args) => (require('./commands/oci/index.js') as typeof import('./commands/oci/index.js')).runOci(args),
  run: (args) => (require('./commands/run.js') as typeof import('./commands/run.js')).runLauncher(args),
  // Hidden: the init that `run` starts inside its namespaces.
  '__run-init': (args) => (require('./runtime/ns-init.js') as typeof import('./runtime/ns-init.js')).runNsInit(args),
};
