// lsyncd-cluster-audit and its systemd units, as rendered; the e2e suite runs them.
import { spawnSync } from "child_process";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import path from "path";
import { sh } from "../../components/quote";
import { auditInstall, renderAuditScript, renderAuditService, renderAuditTimer } from "../../components/auditFiles";
import { renderHealthCheck } from "../../components/render/healthFiles";
import { renderDeletesScript } from "../../components/versionsFiles";

const spec = {
  syncDir: "/srv/pics",
  host: "exchange",
  nodes: ["node01", "node02"],
  excludes: ["*.tmp"],
  graceSeconds: 60,
  versionsDir: "/srv/pics/.lsyncd-versions",
};

describe("lsyncd-cluster-audit", () => {
  it("is valid bash", () => {
    const r = spawnSync("bash", ["-n"], { input: renderAuditScript(spec), encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("reaches each node only through a dry-run push to its write-only module, at idle priority", () => {
    const s = renderAuditScript(spec);
    expect(s).toContain("declare -A target=(['node01']='lsc-node01::sync/' ['node02']='lsc-node02::sync/')");
    expect(s).toContain('"$rsync" -rt --omit-dir-times --dry-run --itemize-changes --delete --modify-window=-1');
    expect(s).toContain("ionice -c 3 -p $$");
    expect(s).toContain("renice -n 19 -p $$");
    // The repair pushes like lsyncd does: a kept copy for the node's intake to weigh.
    expect(s).toContain("--temp-dir='.lsyncd-tmp/exchange/' --backup --backup-dir='.lsyncd-tmp/exchange/.replaced/'");
  });

  // Issue 14: a directory time set on a node is an attrib event its lsyncd sends back to the
  // exchange. Every push of the audit and of the delete fuse's release that keeps times
  // (-t) must leave directory times alone, as lsyncd's own syncs do (lsyncdConf.ts).
  it("sets no directory times on a node, in any push that keeps times", () => {
    const pushes = [renderAuditScript(spec), renderDeletesScript(spec)].flatMap((s) =>
      s.split("\n").filter((l) => /"\$rsync" -r?t /.test(l)),
    );
    expect(pushes.length).toBe(6); // the audit's dry run, its content recheck, the extras' check and two repairs; the release
    for (const l of pushes) expect(l).toContain(" --omit-dir-times ");
  });

  it("keeps hostile excludes and sync dirs inert: they reach rsync as the exact words", () => {
    const hostile = ["'; touch /tmp/pwned; '", "$(id)", "`id`", "a b\\c"];
    const s = renderAuditScript({ ...spec, excludes: hostile });
    const head = s.slice(0, s.indexOf("usage()"));
    const r = spawnSync("bash", ["-c", `${head}\nprintf '%s\\n' "\${excludes[@]}"`], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n").slice(0, -1)).toEqual([
      "--exclude=/.lsyncd-tmp/",
      "--exclude=/lost+found/",
      "--exclude=/.lsyncd-versions/",
      ...hostile.map((e) => `--exclude=${e}`),
    ]);
  });

  // Found in review, each with a stub: a node that failed one of the two looks dropped out
  // of both (the run said OK), and its known ties were forgotten.
  const fn = (name: string) => {
    const text = renderAuditScript(spec);
    const start = text.indexOf(`\n${name}() {`);
    return text.slice(start, text.indexOf("\n}\n", start) + 3);
  };
  const bashWith = (fns: string, code: string, input = "") => {
    const r = spawnSync("bash", ["-c", `set -euo pipefail\n${fns}\n${code}`], { input, encoding: "utf8" });
    expect(r.stderr).toBe("");
    return r.stdout;
  };

  it.each([
    [
      "a difference, then the node unreachable",
      "node02 missing gone.jpg",
      "node02 unchecked (rsync exit 255)",
      "node02 unchecked (rsync exit 255)",
    ],
    [
      "unreachable with two different exit codes",
      "node02 unchecked (rsync exit 255)",
      "node02 unchecked (rsync exit 12)",
      "node02 unchecked (rsync exit 12)",
    ],
    ["unreachable, then a difference", "node02 unchecked (rsync exit 255)", "node02 missing gone.jpg", "node02 unchecked (rsync exit 255)"],
    [
      "a difference in flight and one that stayed",
      "node01 differs a b.jpg\nnode02 missing x",
      "node01 differs a b.jpg\nnode02 missing y",
      "node01 differs a b.jpg",
    ],
  ])("keeps over the grace period %s", (_what, first, second, kept) => {
    expect(bashWith(fn("settled"), `settled "$(printf '${first}')" "$(printf '${second}')"`)).toBe(`${kept}\n`);
  });

  it("lists for the recheck what was found different, and keeps an unchecked node's old names", () => {
    const out = bashWith(
      fn("still_different"),
      `still_different "$(printf 'node02 unchecked (rsync exit 255)\\nnode01 missing z\\nnode01 differs c')"`,
      "node02 differs a b.jpg\nnode01 differs old\n",
    );
    expect(out).toBe("node01 differs c\nnode02 differs a b.jpg\n");
  });

  // Found by a hunt (2026-12-01): --repair deleted, as "extra", an upload that only its node
  // held because its push had failed, and no copy was left anywhere; then (review) a
  // kept delete of a name also matched a later upload under that name.
  describe("deletable_extras: the extras --repair may delete", () => {
    let root: string;
    const T1 = new Date("2026-11-01T10:10:10.123Z");
    const T2 = new Date("2026-11-02T10:10:10.456Z");
    const put = (file: string, content: string, mtime: Date) => {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
      utimesSync(file, mtime, mtime);
    };
    beforeAll(() => {
      root = mkdtempSync(path.join(tmpdir(), "lsc-extras-"));
      const v = path.join(root, "versions");
      const node = path.join(root, "node01");
      put(path.join(v, "gone.jpg", "20261101T101010Z~node01~deleted"), "v1", T1);
      put(path.join(node, "gone.jpg"), "v1", T1); // the very version deleted here: may go
      put(path.join(v, "reused.jpg", "20261101T101010Z~node02~deleted"), "old", T1);
      put(path.join(node, "reused.jpg"), "new upload", T2); // a later upload of that name: stays
      put(path.join(node, "stray.jpg"), "never here", T2); // no delete kept: stays
      put(path.join(v, "over.jpg", "20261101T101010Z~node01~overwritten"), "o", T1);
      put(path.join(node, "over.jpg"), "o", T1); // kept as overwritten, not as a delete: stays
      put(path.join(v, "sub", "twice.jpg", "20261101T101010Z~node01~deleted"), "A", T1);
      put(path.join(v, "sub", "twice.jpg", "20261102T101010Z~node02~deleted~2"), "B", T2);
      put(path.join(node, "sub", "twice.jpg"), "B", T2); // the newest delete: may go
      put(path.join(v, "sp ace\n.jpg", "20261101T101010Z~node01~deleted"), "n", T1);
      put(path.join(node, "sp ace\n.jpg"), "n", T1);
    });
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const lines = [
      "node01 extra gone.jpg",
      "node01 extra reused.jpg",
      "node01 extra stray.jpg",
      "node01 extra over.jpg",
      "node01 extra sub/twice.jpg",
      "node01 extra sp ace\\#012.jpg",
      "node01 missing new.jpg",
      "node02 extra gone.jpg",
    ].join("\n");
    const run = (versions: string, target: string) =>
      bashWith(
        `${fn("itemized")}\n${fn("names_of")}\n${fn("deletable_extras")}`,
        `rsync=rsync; rsh=ssh; versions_dir=${sh(versions)}; declare -A target=([node01]=${sh(target)})\ndeletable_extras node01`,
        `${lines}\n`,
      );

    it("gives only the files that are the newest delete this exchange kept of their name", () => {
      expect(run(path.join(root, "versions"), `${path.join(root, "node01")}/`)).toBe(
        "node01 extra gone.jpg\nnode01 extra sub/twice.jpg\nnode01 extra sp ace\\#012.jpg\n",
      );
    });

    it("gives none when versions are off, or when the dry run against the node fails", () => {
      expect(run("", `${path.join(root, "node01")}/`)).toBe("");
      expect(run(path.join(root, "versions"), path.join(root, "no", "such", "node") + "/")).toBe("");
    });
  });

  it("refuses a grace period that is not a whole number", () => {
    expect(() => renderAuditScript({ ...spec, graceSeconds: 1.5 })).toThrow("graceSeconds must be a whole number >= 0, got 1.5");
  });
});

describe("the auditor's units", () => {
  it("runs the audit as a oneshot at idle priority; differences are not a unit failure", () => {
    const unit = renderAuditService(0);
    expect(unit).toContain("Type=oneshot\nExecStart=/usr/local/bin/lsyncd-cluster-audit\n");
    expect(unit).toContain("SuccessExitStatus=1\n");
    expect(unit).toContain("Nice=19\nIOSchedulingClass=idle\n");
  });

  it("compares content hashes on the timer's runs every checksumHours (0: never)", () => {
    expect(renderAuditService(24)).toContain("ExecStart=/usr/local/bin/lsyncd-cluster-audit --checksum-every 24\n");
    expect(renderAuditService(0)).toContain("ExecStart=/usr/local/bin/lsyncd-cluster-audit\n");
    expect(() => renderAuditService(1.5)).toThrow("checksumHours must be a whole number >= 0, got 1.5");
  });

  it("fires every intervalMinutes, enabled under timers.target", () => {
    const timer = renderAuditTimer(10);
    expect(timer).toContain("[Timer]\nOnBootSec=5min\nOnUnitActiveSec=10min\n");
    expect(timer).toContain("[Install]\nWantedBy=timers.target\n");
    expect(() => renderAuditTimer(0)).toThrow("intervalMinutes must be a whole number >= 1, got 0");
  });

  it("is installed on the exchange only, and removed with the lsyncd step", () => {
    const common = {
      syncDir: "/srv/pics",
      audit: { intervalMinutes: 15, graceSeconds: 30, checksumHours: 6 },
      lsyncd: { excludes: [] },
      versions: { keepDays: 14 },
    };
    expect(auditInstall(common, { name: "node01", role: "node", targets: ["exchange"] })).toEqual({ files: [], paths: [], timers: [] });
    const ex = auditInstall(common, { name: "exchange", role: "exchange", targets: ["node01", "node02"] });
    expect(ex.files.map((f) => f.path)).toEqual([
      "/usr/local/bin/lsyncd-cluster-audit",
      "/etc/systemd/system/lsyncd-cluster-audit.service",
      "/etc/systemd/system/lsyncd-cluster-audit.timer",
    ]);
    expect(ex.paths).toEqual([
      ...ex.files.map((f) => f.path),
      "/var/lib/lsyncd-cluster/audit.differences",
      "/var/lib/lsyncd-cluster/audit.checksummed",
      "/var/lib/lsyncd-cluster/audit.content-differences",
      "/var/lib/lsyncd-cluster/audit.lock",
    ]);
    expect(ex.timers).toEqual(["lsyncd-cluster-audit.timer"]);
    expect(ex.files[2].content).toContain("OnUnitActiveSec=15min");
    expect(ex.files[0].content).toContain("grace=30\n");
    expect(ex.files[0].content).toContain("versions_dir='/srv/pics/.lsyncd-versions'\n");
    const off = auditInstall({ ...common, versions: { keepDays: 0 } }, { name: "exchange", role: "exchange", targets: ["node01"] });
    expect(off.files[0].content).toContain("versions_dir=''\n");
    expect(ex.files[1].content).toContain(" --checksum-every 6\n");
  });
});

describe("lsyncd-cluster-health and the audit", () => {
  it("goes WARNING (exit 1) while the last audit recorded differences", () => {
    const check = renderHealthCheck(10);
    expect(check).toContain("audit_state='/var/lib/lsyncd-cluster/audit.differences'");
    expect(check).toMatch(/if \[ -s "\$audit_state" \]; then[\s\S]*echo "WARNING: [\s\S]*exit 1\nfi\n[\s\S]*echo "OK: /);
  });
});
