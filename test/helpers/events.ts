/** The init's --events file as the integration tests read it: every event checked against the schema. */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { validate } from '../../src/events/validate.js';
import { ROOT } from './proc.js';

export type Ev = Record<string, any>;

const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'src/events/events.schema.json'), 'utf8'));

/** The events of FILE, one JSON object a line, each valid by src/events/events.schema.json. */
export function readEvents(file: string): Ev[] {
  const evs = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev);
  for (const e of evs) expect(validate(schema, e), JSON.stringify(e)).toEqual([]);
  return evs;
}
