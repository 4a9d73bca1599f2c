// The disk step's mount options (issue 11): nothing on the sync dir may run, be setuid or
// act as a device, on a disk of its own or on the root filesystem.
import { diskCreate, diskDelete, SAFE_MOUNT_OPTIONS } from "../../components/scripts/diskScript";

describe("disk step", () => {
  it("mounts a disk nosuid,nodev,noexec, and adds them to a mount an older version made", () => {
    const s = diskCreate("/srv/pics", { kind: "device", path: "/dev/nvme1n1" });
    expect(SAFE_MOUNT_OPTIONS).toEqual(["nosuid", "nodev", "noexec"]);
    expect(s).toContain(
      'line="UUID=$uuid $dir $fstype defaults,nofail,noatime,nosuid,nodev,noexec,x-systemd.device-timeout=30s 0 2 # lsyncd-cluster"',
    );
    expect(s).toContain('    mount -o remount,nosuid,nodev,noexec "$dir"\n');
  });

  it("bind-mounts a sync dir on the root filesystem onto itself with the same options, and only undoes its own", () => {
    const s = diskCreate("/srv/pics", { kind: "none" });
    expect(s).toContain('line="$dir $dir none bind,nosuid,nodev,noexec,nofail 0 0 # lsyncd-cluster"');
    expect(s).toContain('mountpoint -q "$dir" || mount --bind "$dir" "$dir"');
    expect(s).toContain('    mount -o remount,bind,nosuid,nodev,noexec "$dir"\n');
    const d = diskDelete("/srv/pics", false);
    expect(d).toContain('if grep -qF "$dir $dir none bind," /etc/fstab');
    expect(d).toContain("leaving /srv/pics and its files in place");
  });
});
