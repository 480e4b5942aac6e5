#!/usr/bin/env node
// The size of a source folder, reproducibly: the lines of each file and the
// longest functions, found with the TypeScript compiler API (every function
// declaration, method, constructor, accessor, function expression and arrow
// function; a nested function counts on its own and inside its parent).
//
//   node build/code-size.mjs [DIR] [--top N] [--markdown]
//
// DIR defaults to src/runtime (every .ts file under it); N to 10. Lines are
// counted from a function's first line (its name, not the comments above it)
// to its last, blank and comment lines included.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const markdown = args.includes('--markdown');
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 10;
if (!Number.isInteger(top) || top <= 0) {
  process.stderr.write('code-size: --top takes a positive whole number\n');
  process.exit(2);
}
const dirArg = args.find((a, i) => !a.startsWith('--') && !(topAt >= 0 && i === topAt + 1));
const dir = path.resolve(root, dirArg ?? 'src/runtime');
if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
  process.stderr.write(`code-size: ${dir} is not a directory\n`);
  process.exit(2);
}

function tsFiles(d) {
  return fs
    .readdirSync(d, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => (e.isDirectory() ? tsFiles(path.join(d, e.name)) : e.name.endsWith('.ts') ? [path.join(d, e.name)] : []));
}

/** A readable name: the declaration's own, or the variable, property or call it is assigned or passed to. */
function nameOf(node) {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  if (node.name && ts.isStringLiteral(node.name)) return JSON.stringify(node.name.text);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const p = node.parent;
  if (p && ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (p && ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) return p.name.text;
  if (p && ts.isBinaryExpression(p) && p.operatorToken.kind === ts.SyntaxKind.EqualsToken) return p.left.getText().slice(0, 40);
  if (p && ts.isCallExpression(p)) return `(callback of ${p.expression.getText().slice(0, 40)})`;
  return '(anonymous)';
}

const files = [];
const functions = [];
for (const file of tsFiles(dir)) {
  const text = fs.readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const rel = path.relative(root, file);
  files.push({ file: rel, lines: source.getLineAndCharacterOfPosition(text.length).line + (text.endsWith('\n') ? 0 : 1) });
  const visit = (node, outer) => {
    let here = outer;
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line + 1;
      const cls = ts.isClassLike(node.parent) && node.parent.name ? `${node.parent.name.text}.` : '';
      const name = `${outer ? `${outer} > ` : ''}${cls}${nameOf(node)}`;
      functions.push({ name, file: rel, line: start, lines: end - start + 1 });
      here = name;
    }
    ts.forEachChild(node, (c) => visit(c, here));
  };
  visit(source, '');
}

const total = files.reduce((s, f) => s + f.lines, 0);
const longest = functions.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file)).slice(0, top);
const out = [];
if (markdown) {
  out.push(`${path.relative(root, dir)}: ${files.length} files, ${total} lines`, '', '| file | lines |', '|---|---|');
  for (const f of [...files].sort((a, b) => b.lines - a.lines)) out.push(`| ${f.file} | ${f.lines} |`);
  out.push('', `The ${longest.length} longest functions:`, '', '| function | where | lines |', '|---|---|---|');
  for (const f of longest) out.push(`| ${f.name} | ${f.file}:${f.line} | ${f.lines} |`);
} else {
  out.push(`${path.relative(root, dir)}: ${files.length} files, ${total} lines`);
  for (const f of [...files].sort((a, b) => b.lines - a.lines)) out.push(`  ${String(f.lines).padStart(5)}  ${f.file}`);
  out.push(`the ${longest.length} longest functions:`);
  for (const f of longest) out.push(`  ${String(f.lines).padStart(5)}  ${f.name}  (${f.file}:${f.line})`);
}
process.stdout.write(`${out.join('\n')}\n`);
