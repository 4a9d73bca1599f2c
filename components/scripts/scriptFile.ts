// Step scripts live as .sh files in ./sh, so editors, shellcheck and reviewers see them as
// bash rather than as lines of TypeScript strings. A renderer puts the values first, each
// as one assignment quoted by sh(), then the files' bodies: the only way a value enters
// the script, so the quoting tests of quote.ts cover every script made this way.
import { readFileSync } from "fs";
import { join } from "path";
import { sh } from "../quote";

const SCRIPT_DIR = join(__dirname, "sh");
const cache = new Map<string, string>();

/**
 * Each file opens with this directive for shellcheck and editors (a body has no shebang: it
 * runs after the renderer's assignments). It is no part of the script: the rendered text,
 * and so every step's payload and triggers, stays as it was without it.
 */
const SHELL_DIRECTIVE = "# shellcheck shell=bash\n";

/** The text of one script file of ./sh, without its shell directive. */
export function scriptFile(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(join(SCRIPT_DIR, name), "utf8");
    if (!text.startsWith(SHELL_DIRECTIVE)) throw new Error(`${name} must start with ${JSON.stringify(SHELL_DIRECTIVE)}`);
    text = text.slice(SHELL_DIRECTIVE.length);
    cache.set(name, text);
  }
  return text;
}

/** Script lines: `name='value'` for each value, then each file's body. */
export function filled(values: Readonly<Record<string, string>>, ...files: string[]): string[] {
  const assignments = Object.entries(values).map(([name, value]) => {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a shell variable name: ${JSON.stringify(name)}`);
    return `${name}=${sh(value)}`;
  });
  return [...assignments, ...files.map((f) => scriptFile(f).replace(/\n$/, ""))];
}
