import { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { asArray, asRecord, show } from "./props";

export const EBS_VOLUME = "aws:ebs/volume:Volume";
export const EC2_INSTANCE = "aws:ec2/instance:Instance";

/**
 * Every EBS volume must say `encrypted: true`; so must an instance's root block device and
 * every entry of its ebsBlockDevices. An unset flag counts as unencrypted: it would depend
 * on the AMI's snapshot or on an account-wide default that this program does not control.
 */
export function validateEncryptedStorage(args: ResourceValidationArgs, reportViolation: ReportViolation): void {
    if (args.type === EBS_VOLUME) {
        if (args.props.encrypted !== true) {
            reportViolation(
                `EBS volume "${args.name}" is not encrypted (encrypted is ${show(args.props.encrypted)}): set encrypted: true.`,
            );
        }
        return;
    }
    if (args.type !== EC2_INSTANCE) {
        return;
    }
    const root = asRecord(args.props.rootBlockDevice);
    if (root?.encrypted !== true) {
        reportViolation(
            `EC2 instance "${args.name}" root volume is not encrypted (rootBlockDevice.encrypted is ${show(root?.encrypted)}): ` +
                "set rootBlockDevice.encrypted: true.",
        );
    }
    asArray(args.props.ebsBlockDevices).forEach((raw, i) => {
        const device = asRecord(raw) ?? {};
        if (device.encrypted !== true) {
            const name = typeof device.deviceName === "string" ? ` (${device.deviceName})` : "";
            reportViolation(
                `EC2 instance "${args.name}" ebsBlockDevices[${i}]${name} is not encrypted (encrypted is ${show(device.encrypted)}): ` +
                    "set encrypted: true.",
            );
        }
    });
}

export const encryptedStoragePolicy: ResourceValidationPolicy = {
    name: "ebs-encryption-required",
    description: "EBS volumes, instance root volumes and instance EBS block devices must be encrypted.",
    severity: "high",
    validateResource: validateEncryptedStorage,
};
