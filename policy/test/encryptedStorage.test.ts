import { EBS_VOLUME, EC2_INSTANCE, validateEncryptedStorage } from "../rules/encryptedStorage";
import { violations } from "./helpers";

const check = (type: string, name: string, props: Record<string, unknown>) =>
    violations(validateEncryptedStorage, type, name, props);

const encryptedRoot = { volumeType: "gp3", volumeSize: 16, encrypted: true };

describe("ebs-encryption-required: failing cases", () => {
    test("EBS volume without the encrypted flag", async () => {
        expect(await check(EBS_VOLUME, "node01-data", { availabilityZone: "eu-west-1a", size: 50 })).toEqual([
            'EBS volume "node01-data" is not encrypted (encrypted is unset): set encrypted: true.',
        ]);
    });

    test("EBS volume with encrypted: false", async () => {
        expect(await check(EBS_VOLUME, "node02-data", { size: 50, encrypted: false })).toEqual([
            'EBS volume "node02-data" is not encrypted (encrypted is false): set encrypted: true.',
        ]);
    });

    test("instance without a rootBlockDevice block", async () => {
        expect(await check(EC2_INSTANCE, "node01", { instanceType: "t3.small", ami: "ami-123" })).toEqual([
            'EC2 instance "node01" root volume is not encrypted (rootBlockDevice.encrypted is unset): set rootBlockDevice.encrypted: true.',
        ]);
    });

    test("instance with an unencrypted root volume and one unencrypted extra EBS device", async () => {
        const msgs = await check(EC2_INSTANCE, "exchange", {
            rootBlockDevice: { volumeSize: 16, encrypted: false },
            ebsBlockDevices: [
                { deviceName: "/dev/sdf", volumeSize: 50, encrypted: true },
                { deviceName: "/dev/sdg", volumeSize: 50 },
            ],
        });
        expect(msgs).toEqual([
            'EC2 instance "exchange" root volume is not encrypted (rootBlockDevice.encrypted is false): set rootBlockDevice.encrypted: true.',
            'EC2 instance "exchange" ebsBlockDevices[1] (/dev/sdg) is not encrypted (encrypted is unset): set encrypted: true.',
        ]);
    });

    test("instance with an encrypted root but an extra EBS device with encrypted: false", async () => {
        const msgs = await check(EC2_INSTANCE, "node02", {
            rootBlockDevice: encryptedRoot,
            ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: false }],
        });
        expect(msgs).toEqual([
            'EC2 instance "node02" ebsBlockDevices[0] (/dev/sdf) is not encrypted (encrypted is false): set encrypted: true.',
        ]);
    });
});

describe("ebs-encryption-required: passing cases", () => {
    test("encrypted EBS volume, with or without a KMS key", async () => {
        expect(await check(EBS_VOLUME, "a", { size: 50, encrypted: true })).toEqual([]);
        expect(await check(EBS_VOLUME, "b", { size: 50, encrypted: true, kmsKeyId: "arn:aws:kms:eu-west-1:1:key/x" })).toEqual([]);
    });

    test("instance with an encrypted root and no extra devices", async () => {
        expect(await check(EC2_INSTANCE, "node01", { rootBlockDevice: encryptedRoot })).toEqual([]);
    });

    test("instance with an encrypted root and encrypted extra devices", async () => {
        const msgs = await check(EC2_INSTANCE, "node03", {
            rootBlockDevice: encryptedRoot,
            ebsBlockDevices: [
                { deviceName: "/dev/sdf", encrypted: true },
                { deviceName: "/dev/sdg", encrypted: true, kmsKeyId: "k" },
            ],
        });
        expect(msgs).toEqual([]);
    });

    test("other resource types are ignored", async () => {
        expect(await check("aws:ec2/volumeAttachment:VolumeAttachment", "att", { deviceName: "/dev/sdf" })).toEqual([]);
    });
});
