/**
 * The plain init's own entry: the single-executable binary runs this bundle
 * for tini's command line (build/sea-main.cjs chooses it from argv as
 * src/main.ts would dispatch), so the init parses none of the runtime's code.
 */
import { runInit } from './init.js';
import { preamble } from './preamble.js';

preamble();
runInit(process.argv.slice(2));
