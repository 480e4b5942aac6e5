/**
 * Host files the launcher writes at the end of a run, checked before
 * anything is created, so that an unusable one is refused up front (one
 * line, 125) rather than noticed after the workload ran. Nothing is created
 * by the check itself: a refused run leaves no file behind.
 */
import fs from 'node:fs';
import path from 'node:path';

const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? String(e);

/** Why the absolute path FILE cannot take the --report, or null. */
export const reportPathProblem = (file: string): string | null => outputFileProblem('--report', file);

/** Why FILE (absolute), named by FLAG, cannot be created or overwritten, or null. */
export function outputFileProblem(flag: string, file: string): string | null {
  const where = `${flag} ${JSON.stringify(file)}`;
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file);
  } catch (e) {
    if (code(e) !== 'ENOENT' && code(e) !== 'ENOTDIR') return `${where}: ${code(e)}`;
  }
  if (st) {
    if (st.isDirectory()) return `${where}: is a directory (give a file name)`;
    try {
      fs.accessSync(file, fs.constants.W_OK);
    } catch (e) {
      return `${where}: cannot be written: ${code(e)}`;
    }
    return null;
  }
  const dir = path.dirname(file);
  let d: fs.Stats;
  try {
    d = fs.statSync(dir);
  } catch (e) {
    return `${where}: its directory ${dir} ${code(e) === 'ENOENT' ? 'does not exist' : `cannot be used: ${code(e)}`}`;
  }
  if (!d.isDirectory()) return `${where}: ${dir} is not a directory`;
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
  } catch (e) {
    return `${where}: cannot create a file in ${dir}: ${code(e)}`;
  }
  return null;
}
