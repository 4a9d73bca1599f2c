// `npm run demo` is the first thing a newcomer runs: it must deploy, show the image served,
// and then keep the cluster up to play with until Ctrl-C, which takes everything down.
// (It once ended right after printing "The cluster stays up": a pending promise does not
// keep Node running, and the fixture's owner watchdog removed the hosts with it.)
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import { join } from "node:path";
import { laneSuffix } from "../../testing/fixture/testHosts";

jest.setTimeout(300_000);

const ROOT = `/tmp/lsc-demo${laneSuffix()}`;

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", () => resolve(0));
    req.on("timeout", () => req.destroy());
  });
}

describe("npm run demo", () => {
  let demo: ChildProcess | undefined;
  let output = "";
  let exit: Promise<number | null>;

  afterAll(async () => {
    if (demo && demo.exitCode === null) {
      demo.kill("SIGINT");
      await exit;
    }
  });

  it("deploys, keeps the cluster up until Ctrl-C, then takes it down", async () => {
    demo = spawn(join(__dirname, "../../node_modules/.bin/ts-node"), ["--transpile-only", "demo/run.ts"], {
      cwd: join(__dirname, "../.."),
      env: process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const child = demo;
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    exit = new Promise((resolve) => child.on("exit", (code) => resolve(code)));

    // Up and serving: the demo's own output says so, with the addresses to try.
    const upBy = Date.now() + 240_000;
    while (!output.includes("Ctrl-C stops everything")) {
      if (child.exitCode !== null) throw new Error(`the demo ended (exit ${child.exitCode}) before it was up:\n${output}`);
      if (Date.now() > upBy) throw new Error(`the demo was not up in 240 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(output).toMatch(/served byte-identical by node02 after \d+ ms, node03 after \d+ ms/);
    const node03 = output.match(/node03 +ssh .* root@([0-9.]+) /)?.[1];
    expect(node03).toBeDefined();

    // Still up a while later, and still serving what it wrote.
    await new Promise((r) => setTimeout(r, 5_000));
    if (child.exitCode !== null) throw new Error(`the demo ended (exit ${child.exitCode}) instead of staying up:\n${output}`);
    expect(await httpStatus(`http://${node03}/demo.jpg`)).toBe(200);

    // Ctrl-C: a clean exit, nothing left behind.
    child.kill("SIGINT");
    expect(await exit).toBe(0);
    expect(output).toContain("Stopping the demo cluster and cleaning up");
    expect(await httpStatus(`http://${node03}/demo.jpg`)).toBe(0);
    expect(fs.existsSync(ROOT)).toBe(false);
  });
});
