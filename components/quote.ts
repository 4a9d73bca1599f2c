// The one place values are quoted for the languages our payloads are written in.
// Every interpolation into a bash script or a Lua file goes through these; tests prove
// hostile values (quotes, `$()`, backticks, newlines, spaces) come out as the same bytes.
//
// Shell quoting is the POSIX single-quote form, written here on purpose: shell-quote
// 1.8.3 (the usual npm choice) returns `~root` unquoted, which bash tilde-expands to
// /root. A quoting rule this small is easier to prove than a dependency is to audit.

/** A single bash word that expands to exactly `value`. */
export function sh(value: string | number): string {
  const text = String(value);
  if (text.includes("\0")) {
    // No shell word can carry NUL; refuse instead of silently truncating.
    throw new Error("a NUL byte cannot be passed to a shell");
  }
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Several bash words, each quoted. */
export function shWords(values: readonly (string | number)[]): string {
  return values.map(sh).join(" ");
}

/** A Lua double-quoted string literal whose value is exactly `value`. */
export function lua(value: string): string {
  let out = '"';
  for (const ch of Buffer.from(value, "utf8")) {
    if (ch === 0x5c) out += "\\\\";
    else if (ch === 0x22) out += '\\"';
    else if (ch >= 0x20 && ch < 0x7f) out += String.fromCharCode(ch);
    // Decimal escapes of exactly three digits: Lua 5.1-5.4 read them the same way and a
    // following digit can never be swallowed into the escape.
    else out += "\\" + ch.toString().padStart(3, "0");
  }
  return out + '"';
}

/** A Lua table of strings: { "a", "b" }. */
export function luaList(values: readonly string[]): string {
  return values.length === 0 ? "{ }" : `{ ${values.map(lua).join(", ")} }`;
}

/**
 * The sync dir for formats with no quoting of their own (systemd units, nginx and rsyncd
 * configs): a plain absolute path passes unchanged, anything else is refused, never escaped.
 */
export function plainPath(where: string, path: string): string {
  if (!/^\/[A-Za-z0-9._\/-]+$/.test(path)) {
    throw new Error(`sync dir cannot be written into ${where}: ${JSON.stringify(path)}`);
  }
  return path;
}
