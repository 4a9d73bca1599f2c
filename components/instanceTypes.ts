// What an EC2 instance type name says about the machine, read from the name alone so
// config validation needs no AWS call. A family is `<letters><generation>[<suffix>]`
// (m6id, c6gd, is4gen); the suffix letters after the generation digit carry the
// attributes we need: `d` = local NVMe instance storage, `g` = Graviton (arm64).
// Unknown shapes answer "no instance store" / "x86_64": a false "no" only rejects a
// config, a false "yes" would fail at launch or boot the wrong image.

/** Families with local NVMe whose suffix has no `d` (storage- and dense-storage-optimised). */
const STORAGE_FAMILIES: ReadonlySet<string> = new Set([
  "i2",
  "i3",
  "i3en",
  "i4i",
  "i4g",
  "im4gn",
  "is4gen",
  "d2",
  "d3",
  "d3en",
  "h1",
  "x1",
  "x1e",
  "z1d",
]);

/** Graviton families whose suffix has no `g`: a1 is the first-generation Graviton. */
const ARM_FAMILIES_WITHOUT_G: ReadonlySet<string> = new Set(["a1"]);

interface Family {
  readonly name: string;
  /** Letters right after the generation digit, before any "-flex"-style qualifier. */
  readonly suffix: string;
}

function familyOf(type: string): Family | undefined {
  const name = type.split(".")[0] ?? "";
  const match = /^[a-z]+\d+([a-z]*)(?:-[a-z0-9]+)*$/.exec(name);
  return match ? { name, suffix: match[1] ?? "" } : undefined;
}

/** Whether instances of this type come with local NVMe instance storage. */
export function hasInstanceStore(type: string): boolean {
  const family = familyOf(type);
  if (!family) return false;
  return STORAGE_FAMILIES.has(family.name) || family.suffix.includes("d");
}

/** CPU architecture of this type, as AMIs name it. */
export function architectureOf(type: string): "arm64" | "x86_64" {
  const family = familyOf(type);
  if (!family) return "x86_64";
  return ARM_FAMILIES_WITHOUT_G.has(family.name) || family.suffix.includes("g") ? "arm64" : "x86_64";
}
