/**
 * A small JSON Schema validator for the subset events.schema.json uses:
 * type (one or a list), const, enum, properties, required,
 * additionalProperties (boolean), items, oneOf, minimum, maximum, maxLength,
 * pattern and local $ref (#/...). Used by the tests and by `tini-ts check`.
 */
export type Schema = Record<string, unknown>;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function resolve(root: Schema, ref: string): Schema {
  if (!ref.startsWith('#/')) throw new Error(`unsupported $ref ${ref}`);
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) {
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (node === undefined) throw new Error(`unresolved $ref ${ref}`);
  }
  return node as Schema;
}

/** Returns the list of errors (empty: valid). */
export function validate(root: Schema, value: unknown, schema: Schema = root, at = '$'): string[] {
  const errs: string[] = [];
  if (typeof schema.$ref === 'string') errs.push(...validate(root, value, resolve(root, schema.$ref), at));
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    const t = typeOf(value);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) {
      errs.push(`${at}: expected ${types.join('|')}, got ${t}`);
      return errs;
    }
  }
  if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) errs.push(`${at}: expected ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errs.push(`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) errs.push(`${at}: ${value} < ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) errs.push(`${at}: ${value} > ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    if (typeof schema.maxLength === 'number' && [...value].length > schema.maxLength) errs.push(`${at}: longer than ${schema.maxLength}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) errs.push(`${at}: does not match ${schema.pattern}`);
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => errs.push(...validate(root, item, schema.items as Schema, `${at}[${i}]`)));
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required ?? []) as string[]) if (!(key in obj)) errs.push(`${at}: missing ${key}`);
    for (const [key, v] of Object.entries(obj)) {
      if (props[key]) errs.push(...validate(root, v, props[key], `${at}.${key}`));
      else if (schema.additionalProperties === false) errs.push(`${at}: unexpected property ${key}`);
    }
  }
  if (Array.isArray(schema.oneOf)) {
    const results = (schema.oneOf as Schema[]).map((s) => validate(root, value, s, at));
    const passing = results.filter((r) => r.length === 0).length;
    if (passing !== 1) {
      if (passing > 1) errs.push(`${at}: matches ${passing} of oneOf`);
      else {
        // Report the branch for this event's type, if any, rather than all of them.
        const ev = (value as { event?: unknown })?.event;
        const own = results.find((r) => !r.some((e) => e.endsWith('.event: expected ' + JSON.stringify(ev)) || e.includes('.event: expected')));
        errs.push(...(own ?? [`${at}: matches none of oneOf`]));
      }
    }
  }
  return errs;
}
