// The disk step's mount options (issue 11): nothing on the sync dir may run, be setuid or
// act as a device, on a disk of its own or on the root filesystem. The scripts are
// sh/disk-*.sh; these check what the renderer fills in and picks. (The e2e suites mount
// real loop disks with them and check the options on the hosts.)
import { execFileSync } from "child_process";
import { diskCreate, diskDelete, SAFE_MOUNT_OPTIONS } from "../../components/scripts/diskScript";

/** The value the script assigns to `name`, as bash reads it. */
function assigned(script: string, name: string): string {
  const line = script.split("\n").find((l) => l.startsWith(`${name}=`));
  if (!line) throw new Error(`no ${name}= in the script`);
  return execFileSync("bash", ["-c", `${line}; printf '%s' "$${name}"`], { encoding: "utf8" });
}

describe("disk step", () => {
  it("mounts a disk nosuid,nodev,noexec, and adds them to a mount an older version made", () => {
    const s = diskCreate("/srv/pics", { kind: "device", path: "/dev/nvme1n1" });
    expect(SAFE_MOUNT_OPTIONS).toEqual(["nosuid", "nodev", "noexec"]);
    expect(assigned(s, "safe_options")).toBe("nosuid,nodev,noexec");
    expect([assigned(s, "dir"), assigned(s, "kind"), assigned(s, "want")]).toEqual(["/srv/pics", "device", "/dev/nvme1n1"]);
    expect(s).toContain('line="UUID=$uuid $dir $fstype defaults,nofail,noatime,$safe_options,x-systemd.device-timeout=30s 0 2 $mark"');
    expect(s).toContain('lsc_safe_options "$dir" ""');
  });

  it("bind-mounts a sync dir on the root filesystem onto itself with the same options, and only undoes its own", () => {
    const s = diskCreate("/srv/pics", { kind: "none" });
    expect(s).toContain('lsc_fstab_line "$dir $dir none bind,$safe_options,nofail 0 0 $mark"');
    expect(s).toContain('mountpoint -q "$dir" || mount --bind "$dir" "$dir"');
    expect(s).toContain('lsc_safe_options "$dir" bind,');
    const d = diskDelete("/srv/pics", false);
    expect(assigned(d, "on_device")).toBe("no");
    expect(d).toContain('if grep -qF "$dir $dir none bind," /etc/fstab && grep -qF "$mark" /etc/fstab; then');
    expect(assigned(diskDelete("/srv/pics", true), "on_device")).toBe("yes");
  });

  it("finds an EBS volume by its NVMe serial and refuses anything that is not a volume id", () => {
    expect(assigned(diskCreate("/srv/pics", { kind: "ebs", volumeId: "vol-0abc123" }), "want")).toBe(
      "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0abc123",
    );
    expect(() => diskCreate("/srv/pics", { kind: "ebs", volumeId: "vol-1; reboot" })).toThrow("not an EBS volume id");
  });

  it("quotes a hostile sync dir into one assignment", () => {
    const dir = "/srv/it's $(reboot) `x`";
    expect(assigned(diskCreate(dir, { kind: "none" }), "dir")).toBe(dir);
  });
});
