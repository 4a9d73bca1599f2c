// Read back what a step's script would write: the payload files travel base64-encoded in
// `lsc_write PATH MODE OWNER B64` lines (components/scripts/bash.ts).
import { execFileSync } from "child_process";

/** The script inside `bash -c '...'` / `sudo -n bash -c '...'`, unquoted by bash itself. */
export function innerScript(command: string): string {
  const m = /^(?:sudo -n )?bash -c (.*)$/s.exec(command);
  if (!m) throw new Error(`not a step command: ${command.slice(0, 60)}`);
  return execFileSync("bash", ["-c", `printf '%s' ${m[1]}`]).toString("utf8");
}

export interface WrittenFile {
  readonly mode: string;
  readonly owner: string;
  readonly content: string;
}

export function filesWritten(command: string): Record<string, WrittenFile> {
  return filesInScript(innerScript(command));
}

/** The same, from a step's script before it is wrapped for root (as the mesh plan holds it). */
export function filesInScript(script: string): Record<string, WrittenFile> {
  const files: Record<string, WrittenFile> = {};
  for (const line of script.split("\n")) {
    const m = /^lsc_write '([^']*)' '([^']*)' '([^']*)' '([A-Za-z0-9+/=]*)'$/.exec(line);
    if (m) files[m[1]] = { mode: m[2], owner: m[3], content: Buffer.from(m[4], "base64").toString("utf8") };
  }
  return files;
}
