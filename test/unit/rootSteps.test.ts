// Root's steps never follow a link under the sync dir (issue 11): the sync user owns the
// sync dir, so anything there may be a link it planted. The e2e adversary suite plants
// such links and runs the steps; these checks keep the patterns that made that safe.
import { identityCreate } from "../../components/scripts/identityScript";
import { trustCreate, trustDelete } from "../../components/scripts/trustScript";

const pushers = [{ name: "node01", syncPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ1bTmxF1RrcWq5dKp0N6b9wIh2vV3E0m0Z1l9q8WQeS" }];

describe("root's steps in the sync dir", () => {
  const scripts = {
    identity: identityCreate("/srv/pics"),
    trust: trustCreate({ syncDir: "/srv/pics", pushers, targets: [] }),
    trustDelete: trustDelete("/srv/pics"),
  };

  it.each(Object.entries(scripts))("%s: no glob over a dir the sync user writes, no install -d or plain chown inside it", (_, text) => {
    expect(text).not.toMatch(/\/srv\/pics\/\.lsyncd-tmp'?\/\*/);
    expect(text).not.toMatch(/install -d[^\n]*\/srv\/pics\/\.lsyncd-tmp/);
    expect(text).not.toMatch(/chown (?!-h)[^\n]*\{\}/);
    for (const find of text.match(/find [^\n]*\/srv\/pics[^\n]*/g) ?? []) expect(find).toMatch(/^find -P /);
  });

  it("makes the temp root root's, the pushers' dirs the sync user's, through lsc_owned_dir", () => {
    expect(scripts.identity).toContain("lsc_owned_dir 2755 root:root '/srv/pics/.lsyncd-tmp'\n");
    expect(scripts.identity).toContain("-exec chown -h 'lsyncd-sync':'lsyncd-sync' {} +");
    expect(scripts.trust).toContain(
      "lsc_owned_dir 2755 root:root '/srv/pics/.lsyncd-tmp'\nlsc_owned_dir 2775 'lsyncd-sync':'lsyncd-sync' '/srv/pics/.lsyncd-tmp/node01'\n",
    );
  });

  it("gives authorized_keys, .ssh and the sync user's home to root", () => {
    expect(scripts.identity).toContain(
      "install -d -m 0755 -o root -g root '/var/lib/lsyncd-cluster/sync-home' '/var/lib/lsyncd-cluster/sync-home/.ssh'",
    );
    expect(scripts.trust).toMatch(/lsc_write '\/var\/lib\/lsyncd-cluster\/sync-home\/\.ssh\/authorized_keys' '0644' 'root:root' /);
  });
});
