// Every script the program runs on a host, and every script it installs there, as rendered
// for a real mesh (exchange + node, web on), passes shellcheck. Scripts are built by
// TypeScript renderers (values through sh()) around the .sh files of components/scripts/sh;
// this is what shows a quoting or logic slip in the text they make.
import { spawnSync } from "child_process";
import { REMOTE_STEP_TYPE } from "../../components/remoteStep";
import { buildMesh, COMMON_SPEC } from "../helpers/meshFixture";
import { filesWritten, innerScript } from "../helpers/scriptFiles";

function shellcheck(name: string, text: string): string {
  const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "--format=gcc", "-"], { input: text, encoding: "utf8" });
  if (r.error) throw new Error(`shellcheck is needed for this test (Debian: apt-get install shellcheck): ${r.error.message}`);
  return r.status === 0 ? "" : `${name}:\n${r.stdout}`;
}

test("every step script, probe and installed script passes shellcheck", async () => {
  const rec = await buildMesh(1, { ...COMMON_SPEC, lsyncd: { ...COMMON_SPEC.lsyncd, excludes: ["*.part"] } });
  const steps = rec.ofType(REMOTE_STEP_TYPE);
  expect(steps.length).toBeGreaterThanOrEqual(15);
  const findings: string[] = [];
  let checked = 0;
  for (const step of steps) {
    for (const field of ["create", "delete", "probe"] as const) {
      if (step.inputs[field] === "") continue;
      findings.push(shellcheck(`${step.name} ${field}`, innerScript(step.inputs[field])));
      checked++;
    }
    for (const [path, file] of Object.entries(filesWritten(step.inputs.create))) {
      if (!/^#!\/bin\/(ba)?sh/.test(file.content)) continue;
      findings.push(shellcheck(`${step.name} writes ${path}`, file.content));
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(40);
  expect(findings.filter(Boolean)).toEqual([]);
});

test("every .sh file in the repository passes shellcheck as it stands", () => {
  const files = spawnSync("git", ["ls-files", "*.sh"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  expect(files.length).toBeGreaterThan(5);
  // No --shell: as an editor or a plain `shellcheck` run sees them, each file names its shell.
  const r = spawnSync("shellcheck", ["--severity=style", "--format=gcc", ...files], { encoding: "utf8" });
  expect(r.stdout).toBe("");
});
