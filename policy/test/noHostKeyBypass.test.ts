import { HOST_KEY_BYPASS, LOCAL_COMMAND, REMOTE_COMMAND, REMOTE_STEP, validateNoHostKeyBypass } from "../rules/noHostKeyBypass";
import { violations } from "./helpers";

// Test data only: this is exactly what the policy exists to refuse. The option name is
// split in every literal so the repository itself never contains the bypass it forbids.
const check = (type: string, name: string, props: Record<string, unknown>) =>
    violations(validateNoHostKeyBypass, type, name, props);
const fix = "Pin the host key in known_hosts and keep StrictHostKey" + "Checking=yes.";
const PINNED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPinnedPinnedPinnedPinnedPinnedPinnedPinned";
const step = (props: Record<string, unknown>) => ({ connection: { host: "10.0.0.5", user: "root", hostKey: PINNED }, create: "true", delete: "true", probe: "", ...props });

describe("no-ssh-host-key-bypass: what the script-text check missed (issue 11, item 7)", () => {
    test("a remote connection without a pinned host key", async () => {
        expect(await check(REMOTE_STEP, "lsyncd-mesh-node01-ready", step({ connection: { host: "10.0.0.5", user: "root" } }))).toEqual([
            'Command "lsyncd-mesh-node01-ready" connects to "10.0.0.5" without a pinned host key: set connection.hostKey (for lsyncd-cluster: every host\'s hostKey; on AWS the program pins its own).',
        ]);
        expect(await check(REMOTE_COMMAND, "c", { connection: { host: "h", hostKey: "" }, create: "true" })).toHaveLength(1);
        expect(await check(REMOTE_STEP, "ok", step({}))).toEqual([]);
    });

    test("an ssh_config written through a base64 file payload", async () => {
        const payload = Buffer.from("Host *\n  StrictHostKey" + "Checking no\n").toString("base64");
        const msgs = await check(REMOTE_STEP, "trust", step({ create: `lsc_write '/etc/lsyncd-cluster/ssh_config' '0644' 'root:root' '${payload}'` }));
        expect(msgs).toEqual([`Command "trust" turns SSH host key checking off in its create in a file it writes (base64 payload) (found "StrictHostKey${""}Checking no"). ${fix}`]);
    });

    test("accept-new with known hosts in /dev/null", async () => {
        const msgs = await check(REMOTE_STEP, "seed", step({ create: "rsync -e 'ssh -o StrictHostKey" + "Checking=accept-new -o UserKnownHostsFile=/dev/null' a b" }));
        expect(msgs).toEqual([`Command "seed" turns SSH host key checking off in its create (found "UserKnownHostsFile=/dev/null"). ${fix}`]);
    });

    test("the program's own ssh_config: the system-wide known hosts kept out, its own pinned (not a bypass)", async () => {
        const sshConfig =
            "Host lsc-exchange\n  HostName 10.0.0.1\n  HostKeyAlias lsc-exchange\n  StrictHostKey" +
            "Checking yes\n  UserKnownHostsFile /etc/lsyncd-cluster/known_hosts\n  GlobalKnownHostsFile /dev/null\n";
        const payload = Buffer.from(sshConfig).toString("base64");
        expect(await check(REMOTE_STEP, "trust", step({ create: `lsc_write '/etc/lsyncd-cluster/ssh_config' '0644' 'root:root' '${payload}'` }))).toEqual([]);
    });

    test("shell quoting inside the value", async () => {
        const msgs = await check(REMOTE_STEP, "q", step({ delete: "ssh -o StrictHostKey" + "Checking=n''o host true" }));
        expect(msgs).toEqual([`Command "q" turns SSH host key checking off in its delete once shell quoting is removed (found "StrictHostKey${""}Checking=no"). ${fix}`]);
        expect(await check(REMOTE_STEP, "q2", step({ create: 'ssh -o "StrictHost"KeyChecking=\\no host' }))).toHaveLength(1);
    });
});

describe("no-ssh-host-key-bypass: failing cases", () => {
    test("remote create with -o StrictHostKey" + "Checking=no", async () => {
        const msgs = await check(REMOTE_COMMAND, "node01-seed", {
            connection: { host: "10.0.0.5", user: "admin", hostKey: PINNED },
            create: "rsync -a -e 'ssh -o StrictHostKey" + "Checking=no' /srv/images/ sync@node01:/",
        });
        expect(msgs).toEqual([
            `Command "node01-seed" turns SSH host key checking off in its create (found "StrictHostKey${""}Checking=no"). ${fix}`,
        ]);
    });

    test("local update with -oStrictHostKey" + "Checking=NO (no space, upper case)", async () => {
        const msgs = await check(LOCAL_COMMAND, "probe", { create: "true", update: "ssh -oStrictHostKey" + "Checking=NO admin@host true" });
        expect(msgs).toEqual([`Command "probe" turns SSH host key checking off in its update (found "StrictHostKey${""}Checking=NO"). ${fix}`]);
    });

    test("remote delete with spaces and quotes around the value", async () => {
        const msgs = await check(REMOTE_COMMAND, "node02-lsyncd", {
            create: "systemctl enable --now lsyncd",
            delete: `ssh -o "StrictHostKey${""}Checking = 'no'" sync@exchange rm -rf /tmp/x`,
        });
        expect(msgs).toEqual([
            `Command "node02-lsyncd" turns SSH host key checking off in its delete (found "StrictHostKey${""}Checking = 'no"). ${fix}`,
        ]);
    });

    test('ssh_config spelling written from stdin ("StrictHostKey' + 'Checking no")', async () => {
        const msgs = await check(REMOTE_COMMAND, "ssh-options", {
            create: "sudo install -m 0644 /dev/stdin /etc/lsyncd/ssh_config",
            stdin: "Host *\n  BatchMode yes\n  StrictHostKey" + "Checking no\n",
        });
        expect(msgs).toEqual([`Command "ssh-options" turns SSH host key checking off in its stdin (found "StrictHostKey${""}Checking no"). ${fix}`]);
    });

    test("every offending field is reported; off and false are synonyms of no", async () => {
        const msgs = await check(REMOTE_COMMAND, "all", {
            create: 'ssh -o StrictHostKey' + 'Checking="off" a true',
            update: "ssh -o StrictHostKey" + "Checking=\\\"false\\\" a true",
            delete: "ssh -o stricthostkey" + "checking=no a true",
        });
        expect(msgs).toEqual([
            `Command "all" turns SSH host key checking off in its create (found "StrictHostKey${""}Checking=\\"off"). ${fix}`,
            `Command "all" turns SSH host key checking off in its update (found "StrictHostKey${""}Checking=\\\\\\"false"). ${fix}`,
            `Command "all" turns SSH host key checking off in its delete (found "stricthostkey${""}checking=no"). ${fix}`,
        ]);
    });
});

describe("no-ssh-host-key-bypass: passing cases", () => {
    test("pinned host keys with StrictHostKey" + "Checking=yes", async () => {
        const msgs = await check(REMOTE_COMMAND, "node01-lsyncd", {
            create: "ssh -o StrictHostKey" + "Checking=yes -o BatchMode=yes -o UserKnownHostsFile=/var/lib/lsyncd/known_hosts sync@exchange true",
            delete: "sudo systemctl disable --now lsyncd-cluster",
            stdin: "StrictHostKey" + "Checking yes\n",
        });
        expect(msgs).toEqual([]);
    });

    test("accept-new and words that merely start with no are not a bypass", async () => {
        expect(await check(LOCAL_COMMAND, "a", { create: "ssh -o StrictHostKey" + "Checking=accept-new host true" })).toEqual([]);
        expect(await check(LOCAL_COMMAND, "b", { create: "echo StrictHostKey" + "Checking=nothing-to-see; echo no" })).toEqual([]);
    });

    test("commands without scripts and other resource types are ignored", async () => {
        expect(await check(REMOTE_COMMAND, "empty", { connection: { host: "h", hostKey: PINNED } })).toEqual([]);
        expect(await check("command:remote:CopyToRemote", "copy", { create: "StrictHostKey" + "Checking=no" })).toEqual([]);
    });
});

test("the pattern, on its own", () => {
    for (const bad of [
        "StrictHostKey" + "Checking=no",
        "-oStrictHostKey" + "Checking=no",
        "-o StrictHostKey" + "Checking = no",
        "StrictHostKey" + "Checking='no'",
        'StrictHostKey' + 'Checking="no"',
        "StrictHostKey" + "Checking\tno",
        "STRICTHOSTKEY" + "CHECKING=Off",
        "StrictHostKey" + "Checking=false;",
    ]) {
        expect(bad).toMatch(HOST_KEY_BYPASS);
    }
    for (const good of ["StrictHostKey" + "Checking=yes", "StrictHostKey" + "Checking=ask", "StrictHostKey" + "Checking=accept-new", "StrictHostKey" + "Checking=no-such"]) {
        expect(good).not.toMatch(HOST_KEY_BYPASS);
    }
});
