/**
 * The container init's own entry (`__run-init`, `__run-supervise`, started
 * by `run` and OCI create in the container's namespaces): the single-executable
 * binary runs this bundle for them (build/sea-main.cjs chooses it from argv
 * as src/modes.ts would dispatch), so the init's start-up, on the path from
 * `run` to the workload, parses none of the launcher's and the verbs' code.
 */
import { preamble } from './preamble.js';
import { INIT_MODE, runNsInit, runSupervisor } from './runtime/ns-init.js';

preamble();
const [mode, ...args] = process.argv.slice(2);
if (mode === INIT_MODE) runNsInit(args);
else runSupervisor(args);
