// The typed, defaulted, validated description of one cluster. `config.ts` turns raw stack
// config into a ClusterSpec (or one error naming every bad key); everything after that
// trusts these types and never re-validates.

/** lsyncd tuning shared by every host. */
export interface LsyncdSpec {
  /** Seconds lsyncd collects events before it starts an rsync (0 = at once). */
  readonly delay: number;
  /** rsync processes one sync target may run at once. */
  readonly maxProcesses: number;
  /** rsync exclude patterns, on top of the always-excluded temp dir. */
  readonly excludes: readonly string[];
  /** Seconds between status-file writes; the health check reads its age. */
  readonly statusInterval: number;
  /**
   * Seconds a file written on a host must stay unchanged after its last close-write before
   * it is pushed (0 = at its first close-write). The price of not pushing files that are
   * still being written in chunks: every local write reaches the peers this much later.
   */
  readonly quietPeriod: number;
}

/** The exchange's auditor (`lsyncd-cluster-audit`): how often it runs, when a difference counts. */
export interface AuditSpec {
  /** Minutes between runs of its systemd timer. */
  readonly intervalMinutes: number;
  /**
   * Seconds a difference must persist before it counts (the audit looks twice, this far
   * apart): a file in flight is not a divergence.
   */
  readonly graceSeconds: number;
  /**
   * Hours between the timer's runs that compare content hashes (--checksum) too; 0: never
   * (then only `lsyncd-cluster-audit --checksum` by hand).
   */
  readonly checksumHours: number;
}

/** Versions kept on the exchange of every file a push overwrites or deletes (issue 13). */
export interface VersionsSpec {
  /** Days a version is kept before the prune timer removes it; 0 = no versions at all. */
  readonly keepDays: number;
  /** Share of the exchange's data disk (percent) past which the health check warns. */
  readonly warnDiskPercent: number;
}

/** The exchange's mass-delete fuse (issue 13). */
export interface DeleteFuseSpec {
  /** More deletes than this from one origin within `seconds` trip the fuse; 0 = no fuse. */
  readonly files: number;
  readonly seconds: number;
}

/** Kernel inotify limits written to /etc/sysctl.d on every host. */
export interface InotifySpec {
  readonly maxUserWatches: number;
  readonly maxQueuedEvents: number;
  readonly maxUserInstances: number;
}

/** nginx serving the sync dir read-only on the web nodes. */
export interface WebSpec {
  readonly enabled: boolean;
  readonly port: number;
}

/** Settings every host of the cluster shares, whatever created the hosts. */
export interface CommonSpec {
  /** Absolute path of the synced directory on every host. */
  readonly syncDir: string;
  readonly lsyncd: LsyncdSpec;
  readonly inotify: InotifySpec;
  readonly web: WebSpec;
  readonly audit: AuditSpec;
  readonly versions: VersionsSpec;
  readonly deleteFuse: DeleteFuseSpec;
}

/** The fast disk of an AWS host. */
export type AwsDiskSpec =
  | {
      readonly kind: "ebs";
      readonly sizeGiB: number;
      readonly iops: number;
      readonly throughputMiBps: number;
    }
  | { readonly kind: "instance-store" };

/** Snapshots of the exchange's EBS data volume by Data Lifecycle Manager (issue 13). */
export interface DlmSpec {
  readonly enabled: boolean;
  /** Hours between snapshots (DLM accepts 1, 2, 3, 4, 6, 8, 12, 24). */
  readonly intervalHours: number;
  /** UTC start time "HH:MM". */
  readonly time: string;
  /** Snapshots kept. */
  readonly retainCount: number;
}

export interface AwsModeSpec extends CommonSpec {
  readonly mode: "aws";
  readonly nodeCount: number;
  readonly instanceType: string;
  readonly exchangeInstanceType: string;
  /** How many availability zones to spread nodes over (round-robin). */
  readonly availabilityZones: number;
  /** AMI override; when absent the newest official Debian 12 image is looked up. */
  readonly ami?: string;
  readonly sshUser: string;
  /** CIDRs allowed to reach SSH: the operator running `pulumi up`. Never empty. */
  readonly operatorCidrs: readonly string[];
  /** CIDRs allowed to reach HTTP on the web nodes. */
  readonly webCidrs: readonly string[];
  readonly disk: AwsDiskSpec;
  readonly dlm: DlmSpec;
}

/** A server that already exists and is reachable over SSH. */
export interface ExistingHostSpec {
  /** Short name used in resource names, ssh aliases and outputs. */
  readonly name: string;
  /** Address the operator and the other hosts use to reach it. */
  readonly address: string;
  readonly port: number;
  readonly user: string;
  /** Block device to format (only when it has no filesystem) and mount at the sync dir. */
  readonly disk?: string;
  /** The host's SSH host public key ("ssh-ed25519 AAAA..."), pinned for the operator's connection. */
  readonly hostKey: string;
  /** Address nginx binds on this host; absent = all addresses. */
  readonly listenAddress?: string;
}

export interface ExistingModeSpec extends CommonSpec {
  readonly mode: "existing";
  readonly exchange: ExistingHostSpec;
  readonly nodes: readonly ExistingHostSpec[];
}

export type ClusterSpec = AwsModeSpec | ExistingModeSpec;
