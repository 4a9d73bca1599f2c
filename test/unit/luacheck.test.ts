// The lsyncd config of every host, as rendered for a real mesh (with the event intake and
// the rsync action in it), passes luacheck: Lua 5.3, lsyncd 2.2.3's own globals only.
import { spawnSync } from "child_process";
import { REMOTE_STEP_TYPE } from "../../components/remoteStep";
import { buildMesh, COMMON_SPEC } from "../helpers/meshFixture";
import { filesWritten } from "../helpers/scriptFiles";

/** What lsyncd 2.2.3 defines for a config file (lsyncd.lua, "user script" environment). */
const LSYNCD_GLOBALS = ["settings", "sync", "default", "spawn", "spawnShell", "now", "log", "alarm", "lsyncd", "Syncs", "Inotify"];

test("every host's rendered lsyncd config passes luacheck", async () => {
  const rec = await buildMesh(2, { ...COMMON_SPEC, lsyncd: { ...COMMON_SPEC.lsyncd, excludes: ["*.part"] } });
  const configs = rec.ofType(REMOTE_STEP_TYPE).flatMap((step) =>
    Object.entries(filesWritten(step.inputs.create))
      .filter(([path]) => path.endsWith(".lua"))
      .map(([path, f]) => [`${step.name} ${path}`, f.content] as const),
  );
  expect(configs).toHaveLength(3);
  for (const [name, lua] of configs) {
    const r = spawnSync(
      "luacheck",
      [
        "--std",
        "lua53",
        "--globals",
        ...LSYNCD_GLOBALS,
        "--ignore",
        "212/self",
        "--no-max-line-length",
        "--no-color",
        "--formatter",
        "plain",
        "-",
      ],
      { input: lua, encoding: "utf8" },
    );
    if (r.error) throw new Error(`luacheck is needed for this test (Debian: apt-get install lua-check): ${r.error.message}`);
    expect(`${name}: ${r.stdout}`).toBe(`${name}: `);
  }
});
