// The operator's SSH private key (existing-hosts mode): OpenSSH or PEM, never with a
// passphrase (nothing can type one during `pulumi up`).
import { SSH_KEY_PLEASE } from "./awsKeys";

export const PRIVATE_KEY_TEXT =
  'must be an SSH private key in OpenSSH or PEM form ("-----BEGIN ... PRIVATE KEY-----" through ' +
  `"-----END ... PRIVATE KEY-----"); ${SSH_KEY_PLEASE}`;
export const PRIVATE_KEY = /^-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----\r?\n([\s\S]+?)\r?\n-----END \1PRIVATE KEY-----$/;
export const OPENSSH_MAGIC = "openssh-key-v1\0";

/** The cipher of an "OPENSSH PRIVATE KEY" body ("none" when it has no passphrase). */
export function openSshCipher(base64: string): string | undefined {
  const blob = Buffer.from(base64.replace(/\s+/g, ""), "base64");
  const lengthAt = OPENSSH_MAGIC.length;
  if (blob.length < lengthAt + 4 || blob.subarray(0, lengthAt).toString("latin1") !== OPENSSH_MAGIC) {
    return undefined;
  }
  const length = blob.readUInt32BE(lengthAt);
  return blob.subarray(lengthAt + 4, lengthAt + 4 + length).toString("latin1");
}

export function privateKeyProblem(text: string): string | undefined {
  const match = PRIVATE_KEY.exec(text.trim());
  if (!match) return PRIVATE_KEY_TEXT;
  const kind = match[1] ?? "";
  const body = match[2] ?? "";
  const cipher = kind === "OPENSSH " ? openSshCipher(body) : "none";
  if (cipher === undefined) return PRIVATE_KEY_TEXT;
  // Nothing can type a passphrase during `pulumi up`; the connection would fail on every host.
  if (cipher !== "none" || kind.includes("ENCRYPTED") || /^Proc-Type: *4,ENCRYPTED/m.test(body)) {
    return (
      "must be a private key without a passphrase (nothing can type one during pulumi up); " +
      'make a dedicated key with: ssh-keygen -t ed25519 -N "" -f ~/.ssh/lsyncd-cluster, then ' +
      "pulumi config set --secret lsyncd-cluster:sshPrivateKey < ~/.ssh/lsyncd-cluster"
    );
  }
  return undefined;
}
