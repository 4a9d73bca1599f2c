import { EC2_INSTANCE } from "../rules/encryptedStorage";
import { validateImdsv2 } from "../rules/imdsv2";
import { violations } from "./helpers";

const check = (type: string, name: string, props: Record<string, unknown>) => violations(validateImdsv2, type, name, props);
const fix = 'set metadataOptions.httpTokens: "required".';

describe("imdsv2-required: failing cases", () => {
    test("no metadataOptions at all", async () => {
        expect(await check(EC2_INSTANCE, "node01", { instanceType: "t3.small" })).toEqual([
            `EC2 instance "node01" does not require IMDSv2 (metadataOptions.httpTokens is unset): ${fix}`,
        ]);
    });

    test('httpTokens: "optional"', async () => {
        expect(await check(EC2_INSTANCE, "node02", { metadataOptions: { httpTokens: "optional", httpEndpoint: "enabled" } })).toEqual([
            `EC2 instance "node02" does not require IMDSv2 (metadataOptions.httpTokens is "optional"): ${fix}`,
        ]);
    });

    test("metadataOptions without httpTokens", async () => {
        expect(await check(EC2_INSTANCE, "exchange", { metadataOptions: { httpPutResponseHopLimit: 1 } })).toEqual([
            `EC2 instance "exchange" does not require IMDSv2 (metadataOptions.httpTokens is unset): ${fix}`,
        ]);
    });

    test('a differently spelled value ("Required") does not count', async () => {
        expect(await check(EC2_INSTANCE, "node03", { metadataOptions: { httpTokens: "Required" } })).toEqual([
            `EC2 instance "node03" does not require IMDSv2 (metadataOptions.httpTokens is "Required"): ${fix}`,
        ]);
    });
});

describe("imdsv2-required: passing cases", () => {
    test('httpTokens: "required"', async () => {
        expect(await check(EC2_INSTANCE, "node01", { metadataOptions: { httpTokens: "required" } })).toEqual([]);
    });

    test('httpTokens: "required" with a hop limit and tags', async () => {
        const msgs = await check(EC2_INSTANCE, "node02", {
            metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
        });
        expect(msgs).toEqual([]);
    });

    test("other resource types are ignored", async () => {
        expect(await check("aws:ec2/launchTemplate:LaunchTemplate", "lt", {})).toEqual([]);
    });
});
