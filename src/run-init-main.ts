/**
 * The container init's own entry (`__run-init`, started
 * by `run` and OCI create in the container's namespaces): the single-executable
 * binary runs this bundle for them (build/sea-main.cjs chooses it from argv
 * as src/modes.ts would dispatch), so the init's start-up, on the path from
 * `run` to the workload, parses none of the launcher's and the verbs' code.
 */
import { preamble } from './preamble.js';
import { runNsInit } from './runtime/ns-init.js';

preamble();
runNsInit(process.argv.slice(3));
