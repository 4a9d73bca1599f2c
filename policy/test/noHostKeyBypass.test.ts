import { HOST_KEY_BYPASS, LOCAL_COMMAND, REMOTE_COMMAND, validateNoHostKeyBypass } from "../rules/noHostKeyBypass";
import { violations } from "./helpers";

// Test data only: this is exactly what the policy exists to refuse.
const check = (type: string, name: string, props: Record<string, unknown>) =>
    violations(validateNoHostKeyBypass, type, name, props);
const fix = "Pin the host key in known_hosts and keep StrictHostKeyChecking=yes.";

describe("no-ssh-host-key-bypass: failing cases", () => {
    test("remote create with -o StrictHostKeyChecking=no", async () => {
        const msgs = await check(REMOTE_COMMAND, "node01-seed", {
            connection: { host: "10.0.0.5", user: "admin" },
            create: "rsync -a -e 'ssh -o StrictHostKeyChecking=no' /srv/images/ sync@node01:/",
        });
        expect(msgs).toEqual([
            `Command "node01-seed" turns SSH host key checking off in its create (found "StrictHostKeyChecking=no"). ${fix}`,
        ]);
    });

    test("local update with -oStrictHostKeyChecking=NO (no space, upper case)", async () => {
        const msgs = await check(LOCAL_COMMAND, "probe", { create: "true", update: "ssh -oStrictHostKeyChecking=NO admin@host true" });
        expect(msgs).toEqual([`Command "probe" turns SSH host key checking off in its update (found "StrictHostKeyChecking=NO"). ${fix}`]);
    });

    test("remote delete with spaces and quotes around the value", async () => {
        const msgs = await check(REMOTE_COMMAND, "node02-lsyncd", {
            create: "systemctl enable --now lsyncd",
            delete: `ssh -o "StrictHostKeyChecking = 'no'" sync@exchange rm -rf /tmp/x`,
        });
        expect(msgs).toEqual([
            `Command "node02-lsyncd" turns SSH host key checking off in its delete (found "StrictHostKeyChecking = 'no"). ${fix}`,
        ]);
    });

    test('ssh_config spelling written from stdin ("StrictHostKeyChecking no")', async () => {
        const msgs = await check(REMOTE_COMMAND, "ssh-options", {
            create: "sudo install -m 0644 /dev/stdin /etc/lsyncd/ssh_config",
            stdin: "Host *\n  BatchMode yes\n  StrictHostKeyChecking no\n",
        });
        expect(msgs).toEqual([`Command "ssh-options" turns SSH host key checking off in its stdin (found "StrictHostKeyChecking no"). ${fix}`]);
    });

    test("every offending field is reported; off and false are synonyms of no", async () => {
        const msgs = await check(REMOTE_COMMAND, "all", {
            create: 'ssh -o StrictHostKeyChecking="off" a true',
            update: "ssh -o StrictHostKeyChecking=\\\"false\\\" a true",
            delete: "ssh -o stricthostkeychecking=no a true",
        });
        expect(msgs).toEqual([
            `Command "all" turns SSH host key checking off in its create (found "StrictHostKeyChecking=\\"off"). ${fix}`,
            `Command "all" turns SSH host key checking off in its update (found "StrictHostKeyChecking=\\\\\\"false"). ${fix}`,
            `Command "all" turns SSH host key checking off in its delete (found "stricthostkeychecking=no"). ${fix}`,
        ]);
    });
});

describe("no-ssh-host-key-bypass: passing cases", () => {
    test("pinned host keys with StrictHostKeyChecking=yes", async () => {
        const msgs = await check(REMOTE_COMMAND, "node01-lsyncd", {
            create: "ssh -o StrictHostKeyChecking=yes -o BatchMode=yes -o UserKnownHostsFile=/var/lib/lsyncd/known_hosts sync@exchange true",
            delete: "sudo systemctl disable --now lsyncd-cluster",
            stdin: "StrictHostKeyChecking yes\n",
        });
        expect(msgs).toEqual([]);
    });

    test("accept-new and words that merely start with no are not a bypass", async () => {
        expect(await check(LOCAL_COMMAND, "a", { create: "ssh -o StrictHostKeyChecking=accept-new host true" })).toEqual([]);
        expect(await check(LOCAL_COMMAND, "b", { create: "echo StrictHostKeyChecking=nothing-to-see; echo no" })).toEqual([]);
    });

    test("commands without scripts and other resource types are ignored", async () => {
        expect(await check(REMOTE_COMMAND, "empty", { connection: { host: "h" } })).toEqual([]);
        expect(await check("command:remote:CopyToRemote", "copy", { create: "StrictHostKeyChecking=no" })).toEqual([]);
    });
});

test("the pattern, on its own", () => {
    for (const bad of [
        "StrictHostKeyChecking=no",
        "-oStrictHostKeyChecking=no",
        "-o StrictHostKeyChecking = no",
        "StrictHostKeyChecking='no'",
        'StrictHostKeyChecking="no"',
        "StrictHostKeyChecking\tno",
        "STRICTHOSTKEYCHECKING=Off",
        "StrictHostKeyChecking=false;",
    ]) {
        expect(bad).toMatch(HOST_KEY_BYPASS);
    }
    for (const good of ["StrictHostKeyChecking=yes", "StrictHostKeyChecking=ask", "StrictHostKeyChecking=accept-new", "StrictHostKeyChecking=no-such"]) {
        expect(good).not.toMatch(HOST_KEY_BYPASS);
    }
});
