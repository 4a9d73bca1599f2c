// The SSH key the program itself uses to run the per-host steps. It is made here (not
// brought by the operator) so a fresh stack needs nothing but AWS credentials, and it
// lives only in encrypted stack state.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

export interface OperatorKeyArgs {
  /**
   * Start of the EC2 key pair name (AWS appends a unique suffix). Carries the cluster id
   * so two stacks in one account never collide, and a prefix rather than a fixed name
   * lets a replacement key pair be created before the old one is deleted.
   */
  readonly keyNamePrefix: pulumi.Input<string>;
  /** Tags for the EC2 key pair (cluster id, Name). */
  readonly tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class OperatorKey extends pulumi.ComponentResource {
  /** OpenSSH private key for the operator's connections; always secret. */
  public readonly privateKeyOpenssh: pulumi.Output<string>;
  /** "ssh-ed25519 AAAA..." as installed in the hosts' authorized_keys by EC2. */
  public readonly publicKeyOpenssh: pulumi.Output<string>;
  /** Name of the EC2 key pair, for `aws.ec2.Instance.keyName`. */
  public readonly keyName: pulumi.Output<string>;

  constructor(name: string, args: OperatorKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lsyncd-cluster:aws:OperatorKey", name, {}, opts);

    const key = new tls.PrivateKey(
      `${name}-key`,
      { algorithm: "ED25519" },
      // The provider does not mark these secret itself in every version; state must
      // never hold them in plain text.
      { parent: this, additionalSecretOutputs: ["privateKeyOpenssh", "privateKeyPem"] },
    );

    const keyPair = new aws.ec2.KeyPair(
      `${name}-keypair`,
      { keyNamePrefix: args.keyNamePrefix, publicKey: key.publicKeyOpenssh, tags: args.tags },
      { parent: this },
    );

    // additionalSecretOutputs only takes effect in the engine; wrapping here keeps the
    // Output secret for everything downstream, mocks and previews included.
    this.privateKeyOpenssh = pulumi.secret(key.privateKeyOpenssh);
    this.publicKeyOpenssh = key.publicKeyOpenssh;
    this.keyName = keyPair.keyName;

    this.registerOutputs({
      privateKeyOpenssh: this.privateKeyOpenssh,
      publicKeyOpenssh: this.publicKeyOpenssh,
      keyName: this.keyName,
    });
  }
}
