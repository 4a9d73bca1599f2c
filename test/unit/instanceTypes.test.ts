// What the config layer and the AMI lookup read from an instance type's name. A wrong
// "has NVMe" sends a host to boot without the disk the sync dir needs; a wrong
// architecture boots an image that cannot run.
import { architectureOf, hasInstanceStore } from "../../components/instanceTypes";

describe("hasInstanceStore", () => {
  test.each([
    // "d" after the generation digit
    "m5d.large",
    "m5ad.large",
    "m6id.large",
    "c6gd.large",
    "r5dn.large",
    "m6idn.large",
    "x2idn.16xlarge",
    "c5d.xlarge",
    "m7gd.medium",
    "r8gd.large",
    "g4dn.xlarge",
    "p4d.24xlarge",
    "x2iedn.xlarge",
    "z1d.large",
    // storage families named without a "d" suffix
    "i2.xlarge",
    "i3.large",
    "i3en.large",
    "i4i.large",
    "i4g.large",
    "im4gn.large",
    "is4gen.medium",
    "d2.xlarge",
    "d3.xlarge",
    "d3en.xlarge",
    "h1.2xlarge",
    "x1.16xlarge",
    "x1e.xlarge",
  ])("%s has local NVMe", (type) => {
    expect(hasInstanceStore(type)).toBe(true);
  });

  test.each([
    "m6i.large",
    "t3.small",
    "t4g.micro",
    "c5.large",
    "m7a.large",
    "r8g.large",
    "m7i-flex.large",
    "c6in.large",
    "m5zn.large",
    "x2iezn.2xlarge",
    "a1.large",
    "u-6tb1.metal",
    "not-a-type",
    // a "d" in the family's leading letters is not the storage suffix
    "dl2q.24xlarge",
  ])("%s has no local NVMe", (type) => {
    expect(hasInstanceStore(type)).toBe(false);
  });
});

describe("architectureOf", () => {
  test.each([
    "t4g.micro",
    "m7g.large",
    "c6gd.large",
    "im4gn.large",
    "is4gen.medium",
    "r8g.large",
    "c6gn.large",
    "x2gd.large",
    "hpc7g.4xlarge",
    "i4g.large",
    "g5g.xlarge",
    // first-generation Graviton has no "g" in its name
    "a1.large",
  ])("%s is arm64", (type) => {
    expect(architectureOf(type)).toBe("arm64");
  });

  test.each([
    "m6i.large",
    "c5.large",
    "t3.small",
    "m7a.large",
    "m6id.large",
    // "g" as the family letter (GPU instances) is not Graviton
    "g4dn.xlarge",
    "g5.xlarge",
    "m7i-flex.large",
    "u-6tb1.metal",
  ])("%s is x86_64", (type) => {
    expect(architectureOf(type)).toBe("x86_64");
  });
});
