// The seed copies straight into a new node (the step's first run), and through the
// exchange's temp dir on every later run, when the node's lsyncd may be watching; one seed
// of a node at a time, and its delete waits for a seed still running (seedScript.ts). The provider tells a script which run it is (provider.ts, stepRun):
// checked here against stub `rsync` and `ssh` binaries that record what they were given.
// test/e2e/seed.test.ts runs both kinds of run on real hosts.
import { execFileSync, spawn, spawnSync } from "child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { remoteStepProvider, StepState, stepRun } from "../../components/remote/provider";
import { asRoot } from "../../components/scripts/bash";
import { seedCreate, seedDelete } from "../../components/scripts/seedScript";

// The provider spawns `ssh` by name; child_process reads the real environment, not the
// test's copy of it, so the stub is swapped in where ssh is spawned.
const mockSsh = { path: "" };
jest.mock("child_process", () => {
  const actual = jest.requireActual("child_process");
  return {
    ...actual,
    spawn: (command: string, ...rest: unknown[]) => actual.spawn(command === "ssh" && mockSsh.path ? mockSsh.path : command, ...rest),
  };
});

let stubDir: string;
const recorded = () => join(stubDir, "recorded");

/** A stub `name` on PATH that appends its arguments, NUL-separated, as one record. */
function stub(name: string, exitCode = 0): void {
  const path = join(stubDir, name);
  writeFileSync(
    path,
    `#!/bin/bash\nprintf '%s\\0' "$@" >> ${JSON.stringify(recorded())}\nprintf '\\n' >> ${JSON.stringify(recorded())}\nexit ${exitCode}\n`,
  );
  chmodSync(path, 0o755);
}

/** Every call the stubs recorded, each as its list of arguments. */
function calls(): string[][] {
  const text = (() => {
    try {
      return readFileSync(recorded(), "utf8");
    } catch {
      return "";
    }
  })();
  return text
    .split("\0\n")
    .filter((c) => c !== "")
    .map((c) => c.split("\0"));
}

const withStubs = () => ({ ...process.env, PATH: `${stubDir}:${process.env.PATH}` });

beforeEach(() => {
  stubDir = mkdtempSync(join(tmpdir(), "lsc-seed-unit-"));
});

afterEach(() => {
  rmSync(stubDir, { recursive: true, force: true });
});

describe("the seed's rsync", () => {
  // The seed's lock, in the test's own dir.
  const lock = () => join(stubDir, "seed-node02.lock");
  const command = () => asRoot("root", seedCreate("/srv/pics", "exchange", "node02", ["/cache/"], lock()));
  /** One run of the seed; what rsync was given and what the script printed. */
  const seedRun = (run: string | undefined): { args: string[]; stdout: string } => {
    rmSync(recorded(), { force: true });
    stub("rsync");
    const stdout = execFileSync("bash", ["-c", run === undefined ? command() : stepRun(command(), run as "create")], {
      env: withStubs(),
      encoding: "utf8",
    });
    const [args] = calls();
    return { args, stdout };
  };
  it("copies a new node straight into place on the step's first run, without the temp dir", () => {
    const { args, stdout } = seedRun("create");
    expect(args.filter((a) => a.startsWith("--temp-dir"))).toEqual([]);
    expect(args).toEqual(
      expect.arrayContaining(["--recursive", "--times", "--omit-dir-times", "--update", "--exclude=/.lsyncd-tmp/", "--exclude=/cache/"]),
    );
    expect(args.slice(-2)).toEqual(["/srv/pics/", "lsc-node02::sync/"]);
    expect(stdout).toContain("seeded node02 straight into place (the step's first run: a new node)");
  });

  it("goes through the exchange's temp dir on every later run, and when nobody says which run", () => {
    const first = seedRun("create").args;
    for (const run of ["update", undefined, "", "create2"]) {
      const { args, stdout } = seedRun(run);
      expect(args[0]).toBe("--temp-dir=.lsyncd-tmp/exchange/");
      expect(args.slice(1)).toEqual(first);
      expect(stdout).toContain("seeded node02 through the exchange's temp dir (a later run)");
    }
  });

  it("waits for an earlier seed of the same node that still runs, and says so", async () => {
    // An earlier run whose ssh connection was cut, still copying on the exchange.
    const earlier = spawn("flock", [lock(), "sleep", "1.5"], { stdio: "ignore" });
    const gone = new Promise((r) => earlier.on("exit", r));
    while (spawnSync("flock", ["-n", lock(), "true"]).status === 0) await new Promise((r) => setTimeout(r, 20));
    stub("rsync");
    const started = Date.now();
    const seed = spawnSync("bash", ["-c", stepRun(command(), "create")], { env: withStubs(), encoding: "utf8" });
    const waitedMs = Date.now() - started;
    await gone;
    expect(seed.status).toBe(0);
    expect(seed.stderr).toContain("waiting for an earlier seed of node02, still running on this host");
    expect(waitedMs).toBeGreaterThan(800);
    expect(calls()).toHaveLength(1);
  });

  it("removes its lock on delete only once no seed of the node holds it", async () => {
    // The program's state dir on the exchange is the test's own dir here.
    const deleteScript = seedDelete("node02").split("/var/lib/lsyncd-cluster").join(stubDir);
    expect(deleteScript).not.toBe(seedDelete("node02"));
    const earlier = spawn("flock", [lock(), "sleep", "1"], { stdio: "ignore" });
    const gone = new Promise((r) => earlier.on("exit", r));
    while (spawnSync("flock", ["-n", lock(), "true"]).status === 0) await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    const removed = spawnSync("bash", ["-c", deleteScript], { encoding: "utf8" });
    const waitedMs = Date.now() - started;
    await gone;
    expect(removed.status).toBe(0);
    expect(waitedMs).toBeGreaterThan(500);
    expect(existsSync(lock())).toBe(false);
    // Twice is fine (a delete runs again after a failure), and so is a host without the
    // state dir (wiped by hand): nothing to remove there.
    expect(spawnSync("bash", ["-c", deleteScript]).status).toBe(0);
    expect(removed.stderr).toContain("waiting for a seed of node02, still running on this host");
    const gone2 = seedDelete("node02").split("/var/lib/lsyncd-cluster").join(join(stubDir, "no-such-dir"));
    const noDir = spawnSync("bash", ["-c", gone2], { encoding: "utf8" });
    expect([noDir.status, noDir.stdout.trim()]).toEqual([0, "seed of node02: files stay in place"]);
  });

  it("fails the step with rsync's exit code, except 24 (files that vanished)", () => {
    for (const [code, want] of [
      [23, 23],
      [24, 0],
      [0, 0],
    ]) {
      stub("rsync", code);
      let status = 0;
      try {
        execFileSync("bash", ["-c", stepRun(command(), "create")], { env: withStubs(), stdio: "pipe" });
      } catch (e) {
        status = (e as { status: number }).status;
      }
      expect(status).toBe(want);
    }
  });
});

describe("the remote step provider", () => {
  const state: StepState = {
    connection: { host: "192.0.2.10", port: 22, user: "root", privateKey: "not a key", hostKey: "ssh-ed25519 AAAAtest" },
    create: "bash -c 'echo made'",
    delete: "bash -c 'echo undone'",
    payload: "",
    probe: "bash -c 'echo there'",
    dialSeconds: 1,
    commandSeconds: 5,
  };
  // The command is ssh's last argument, behind `timeout --kill-after=30 <seconds>`.
  const commands = () => calls().map((args) => args[args.length - 1]);

  beforeEach(() => {
    stub("ssh");
    mockSsh.path = join(stubDir, "ssh");
  });
  afterEach(() => {
    mockSsh.path = "";
  });

  it("tells the script it is the step's first run on create, and not on update", async () => {
    const created = await remoteStepProvider.create(state);
    const updated = await remoteStepProvider.update("id", state, state);
    // What is stored is the script alone: the kind of run never reaches a diff.
    expect([created.outs.create, updated.outs.create]).toEqual([state.create, state.create]);
    expect(commands()).toEqual([
      "timeout --kill-after=30 5 bash -c 'echo made' lsc-step create",
      "timeout --kill-after=30 5 bash -c 'echo there'",
      "timeout --kill-after=30 5 bash -c 'echo made' lsc-step update",
      "timeout --kill-after=30 5 bash -c 'echo there'",
    ]);
  });

  it("runs delete and the refresh probe as they are stored", async () => {
    await remoteStepProvider.delete("id", state);
    await remoteStepProvider.read("id", state);
    expect(commands()).toEqual(["timeout --kill-after=30 5 bash -c 'echo undone'", "timeout --kill-after=30 5 bash -c 'echo there'"]);
  });

  it("keeps the kind of run out of the diff: the same inputs are no change", async () => {
    expect((await remoteStepProvider.diff("id", state, state)).changes).toBe(false);
  });
});
