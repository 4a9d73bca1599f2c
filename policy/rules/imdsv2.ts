import { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { asRecord, show } from "./props";
import { EC2_INSTANCE } from "./encryptedStorage";

/** Every EC2 instance must require IMDSv2 session tokens (metadataOptions.httpTokens = "required"). */
export function validateImdsv2(args: ResourceValidationArgs, reportViolation: ReportViolation): void {
    if (args.type !== EC2_INSTANCE) {
        return;
    }
    const httpTokens = asRecord(args.props.metadataOptions)?.httpTokens;
    if (httpTokens !== "required") {
        reportViolation(
            `EC2 instance "${args.name}" does not require IMDSv2 (metadataOptions.httpTokens is ${show(httpTokens)}): ` +
                'set metadataOptions.httpTokens: "required".',
        );
    }
}

export const imdsv2Policy: ResourceValidationPolicy = {
    name: "imdsv2-required",
    description: 'EC2 instances must set metadataOptions.httpTokens to "required" (IMDSv2 only).',
    severity: "high",
    validateResource: validateImdsv2,
};
