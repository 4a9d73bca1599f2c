// sysctl: the inotify limits file, applied now and at every boot.
import { sh } from "../quote";
import { renderSysctlConf } from "../render/sysctlConf";
import { InotifySpec } from "../spec";
import { script, writeFile } from "./bash";
import { SYSCTL_FILE } from "../hostLayout";

export function sysctlCreate(spec: InotifySpec): string {
  return script([
    writeFile({ path: SYSCTL_FILE, content: renderSysctlConf(spec), mode: "0644" }),
    // Only our file: `sysctl --system` would fail the step on any unrelated bad key.
    `sysctl -q -p ${sh(SYSCTL_FILE)}`,
  ]);
}

export function sysctlDelete(): string {
  // The running values stay until reboot; lowering them under a running lsyncd could break it.
  return script([`lsc_remove ${sh(SYSCTL_FILE)}`]);
}
