/**
 * The process's arguments as the kernel passed them (/proc/self/cmdline), so
 * bytes that are not UTF-8 pass unchanged: Node's process.argv has replaced
 * them. `args` are the decoded strings of the last arguments; their raw
 * counterparts are returned, or the strings re-encoded when /proc is not
 * there or does not match them.
 */
export function rawArgs(args: string[], readCmdline: () => Buffer): Buffer[] {
  const fromStrings = args.map((a) => Buffer.from(a));
  try {
    const parts = splitNul(readCmdline());
    if (parts.length < args.length) return fromStrings;
    const user = parts.slice(parts.length - args.length);
    return user.some((b, i) => b.toString() !== args[i]) ? fromStrings : user;
  } catch {
    return fromStrings;
  }
}

/** NUL-terminated strings (cmdline, environ) as byte strings. */
export function splitNul(raw: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0) {
      parts.push(raw.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < raw.length) parts.push(raw.subarray(start));
  return parts;
}
