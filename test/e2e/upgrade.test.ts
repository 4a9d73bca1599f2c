// Upgrading a deployed stack on the real engine: the program as it was at PREVIOUS (the
// last version with this state layout: every step a RemoteStep under its host) deploys a
// stack, then this version previews and updates it. The upgrade must plan no create,
// replace or delete — a moved or renamed step would be a delete on a host that stays —
// and must leave the running cluster alone. Updates (a script worded differently) are in
// place by design (docs/architecture.md, "Remote steps").
import { execFileSync } from "child_process";
import { existsSync, mkdirSync, rmSync, symlinkSync } from "fs";
import { join } from "path";
import { configFor, fetchImage, run, SYNC_DIR, waitFor } from "../../testing/harness/cluster";
import { EngineStack, toolchainBin, urnName } from "../../testing/harness/engine";
import { startTestHosts, TestCluster } from "../../testing/fixture/testHosts";

jest.setTimeout(10 * 60_000);

/** The commit whose deployed stacks this version must take over unchanged. */
const PREVIOUS = "b77af9aeb517e85449cc0bf90521d1b9d3da8a92";
const REPO = join(__dirname, "..", "..");
const ROOT = "/tmp/lsc-upgrade";
const PREVIOUS_TREE = join(ROOT + "-previous");

let hosts: TestCluster;
let stack: EngineStack;

function git(args: string[]): string {
  return execFileSync("git", args, { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

beforeAll(async () => {
  const bin = toolchainBin();
  // The previous version's source, from this clone's history (CI clones with history).
  rmSync(PREVIOUS_TREE, { recursive: true, force: true });
  git(["worktree", "prune"]);
  try {
    git(["cat-file", "-e", `${PREVIOUS}^{commit}`]);
  } catch {
    throw new Error(`commit ${PREVIOUS} is not in this clone: the upgrade test needs the repository's history (git fetch --unshallow)`);
  }
  git(["worktree", "add", "--detach", PREVIOUS_TREE, PREVIOUS]);
  // Same dependencies then and now (the lock file is compared below), so the same modules.
  symlinkSync(join(REPO, "node_modules"), join(PREVIOUS_TREE, "node_modules"));
  hosts = await startTestHosts({ nodes: 2, root: `${ROOT}-hosts`, addressBase: "127.0.18" });
  mkdirSync(ROOT, { recursive: true });
  stack = new EngineStack(ROOT, "upgrade", bin);
  stack.init(hosts.operatorPrivateKey);
  stack.writeConfig(configFor(hosts));
});

afterAll(async () => {
  await hosts?.stop();
  if (existsSync(PREVIOUS_TREE)) git(["worktree", "remove", "--force", PREVIOUS_TREE]);
});

test("a stack deployed by the previous version: this version plans no create, replace or delete, and a second up changes nothing", async () => {
  expect(git(["diff", "--stat", PREVIOUS, "--", "package-lock.json"]).trim()).toBe("");

  const deployed = await stack.run("up", [], PREVIOUS_TREE);
  if (deployed.code !== 0) throw new Error(`the previous version's up failed:\n${deployed.output.slice(-4000)}`);
  const [node01, node02] = hosts.nodes;
  await run(hosts, node01, `echo before the upgrade > ${SYNC_DIR}/upgrade-before.txt`);
  await waitFor(
    "node02 serves the file",
    async () => (await fetchImage(node02, "upgrade-before.txt"))?.toString() === "before the upgrade\n",
    30_000,
    200,
  );

  // Updates are allowed (a script worded differently runs again, in place; every create is
  // idempotent); a create, replace or delete is not.
  const preview = await stack.run("preview");
  if (preview.code !== 0) throw new Error(`preview failed:\n${preview.output.slice(-4000)}`);
  const changed = preview.events.filter((e) => e.op !== "same").map((e) => `${e.op} ${urnName(e.urn)}`);
  console.log(`upgrade preview: ${JSON.stringify(preview.summary)}; ${changed.length ? changed.join(", ") : "nothing else"}`);
  expect(changed.filter((c) => !c.startsWith("update "))).toEqual([]);
  expect(Object.keys(preview.summary).filter((op) => op !== "same" && op !== "update")).toEqual([]);

  const up = await stack.run("up");
  if (up.code !== 0) throw new Error(`up with this version failed:\n${up.output.slice(-4000)}`);
  console.log(`upgrade up: ${JSON.stringify(up.summary)}`);
  expect(Object.keys(up.summary).filter((op) => op !== "same" && op !== "update")).toEqual([]);
  const again = await stack.run("up", ["--expect-no-changes"]);
  if (again.code !== 0) throw new Error(`a second up changed something:\n${again.output.slice(-4000)}`);
  expect(Object.keys(again.summary)).toEqual(["same"]);
  // The cluster still runs as before: a new file goes the whole way.
  await run(hosts, node02, `echo after the upgrade > ${SYNC_DIR}/upgrade-after.txt`);
  await waitFor(
    "node01 serves the new file",
    async () => (await fetchImage(node01, "upgrade-after.txt"))?.toString() === "after the upgrade\n",
    30_000,
    200,
  );
  expect((await fetchImage(node02, "upgrade-before.txt"))?.toString()).toBe("before the upgrade\n");
});
