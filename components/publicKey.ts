// One definition of an OpenSSH public key, for both places one enters the program: a
// pinned host key in config, and the keys a host's identity step prints. "type base64
// [comment]" on one line, reduced to "type base64" before it is written anywhere (a
// comment or option could otherwise carry text into known_hosts or authorized_keys).

/** The key types hosts may have; ssh-dss is gone from OpenSSH. */
const PAIR = /^(ssh-ed25519|ecdsa-sha2-nistp(?:256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,3}$/;

/** "type base64" of a one-line key with an optional comment, or undefined if it is not one. */
export function parsePublicKey(text: string): string | undefined {
  const trimmed = text.trim();
  if (/[\r\n\0]/.test(trimmed)) return undefined;
  const parts = trimmed.split(/[ \t]+/);
  const pair = parts.slice(0, 2).join(" ");
  return parts.length >= 2 && PAIR.test(pair) ? pair : undefined;
}

/** parsePublicKey, or an error naming `what` (a key a host printed is not trusted blindly). */
export function normalizePublicKey(what: string, key: string): string {
  const pair = parsePublicKey(key);
  if (pair === undefined) throw new Error(`${what} is not an OpenSSH public key: ${JSON.stringify(key.slice(0, 80))}`);
  return pair;
}
