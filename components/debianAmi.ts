// Which image an AWS host boots. Debian 12 is the default because it ships lsyncd 2.2.3,
// rsync and nginx from its own archive (Amazon Linux 2023 has no lsyncd).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { architectureOf } from "./instanceTypes";

/** The AWS account Debian publishes its official cloud images from. */
export const DEBIAN_OWNER_ID = "136693071363";

export type Architecture = "arm64" | "x86_64";

/** The `getAmi` query for the newest official Debian 12 image of one architecture. */
export function debianAmiQuery(arch: Architecture): aws.ec2.GetAmiArgs {
  // Debian names images by its own architecture names, EC2 filters by its own.
  const debianArch = arch === "x86_64" ? "amd64" : "arm64";
  return {
    mostRecent: true,
    owners: [DEBIAN_OWNER_ID],
    filters: [
      { name: "name", values: [`debian-12-${debianArch}-*`] },
      { name: "architecture", values: [arch] },
      { name: "virtualization-type", values: ["hvm"] },
      { name: "root-device-type", values: ["ebs"] },
    ],
  };
}

/** Picks the image for an instance type; built once per cluster. */
export interface AmiChooser {
  /** The image id to boot `instanceType` from. */
  imageFor(instanceType: string): pulumi.Output<string>;
  /**
   * True when images come from a "most recent" lookup: the answer changes whenever
   * Debian publishes, so hosts must ignore later answers or every `pulumi up` after a
   * Debian release would replace every running host (and its synced data).
   */
  readonly isLookup: boolean;
}

/**
 * Uses `override` for every host when given; otherwise looks up the newest Debian 12
 * image, at most once per architecture (the exchange and the nodes may differ).
 */
export function amiChooser(override: string | undefined, opts: pulumi.InvokeOutputOptions): AmiChooser {
  if (override !== undefined) {
    const fixed = pulumi.output(override);
    return { imageFor: () => fixed, isLookup: false };
  }
  const byArch = new Map<Architecture, pulumi.Output<string>>();
  return {
    isLookup: true,
    imageFor: (instanceType) => {
      const arch = architectureOf(instanceType);
      let id = byArch.get(arch);
      if (id === undefined) {
        id = aws.ec2.getAmiOutput(debianAmiQuery(arch), opts).id;
        byArch.set(arch, id);
      }
      return id;
    },
  };
}
