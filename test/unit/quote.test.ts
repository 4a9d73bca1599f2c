// Proof that no value escapes the shared quoting helpers: every generated string goes
// through real bash and a real Lua 5.3 parser (fengari) and must come back byte-identical.
import { execFileSync } from "child_process";
import fc from "fast-check";
import { lua, luaList, plainPath, sh, shWords } from "../../components/quote";
// fengari ships no types; it is a Lua 5.3 VM in JavaScript, independent of our code.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fengari = require("fengari");

const HOSTILE = [
  "'",
  '"',
  "$(id)",
  "`id`",
  "\n",
  " ",
  "\t",
  "\\",
  "~root",
  "*",
  "!x",
  "#",
  ";",
  "|",
  "&",
  "${HOME}",
  "\r",
  "\u00e9",
  "]]",
  "--[[",
  "\\n",
  "%",
];

const hostileString = fc
  .array(fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: "binary" })), { maxLength: 8 })
  .map((parts) => parts.join("").replace(/\0/g, ""));

function bashEcho(words: string): string[] {
  // printf emits each argument NUL-terminated, so we see word boundaries exactly.
  const out = execFileSync("bash", ["-c", `printf '%s\\0' ${words}`]);
  const parts = out.toString("utf8").split("\0");
  parts.pop();
  return parts;
}

function luaEval(literal: string): Buffer {
  const { lua: L_, lauxlib, lualib, to_luastring } = fengari;
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  const status = lauxlib.luaL_loadstring(L, to_luastring(`return ${literal}`));
  if (status !== 0) throw new Error(`lua rejected ${literal}: ${L_.lua_tojsstring(L, -1)}`);
  L_.lua_call(L, 0, 1);
  return Buffer.from(L_.lua_tostring(L, -1));
}

describe("sh (bash quoting)", () => {
  it("returns every hostile value unchanged through bash", () => {
    fc.assert(
      fc.property(hostileString, (value) => {
        expect(bashEcho(sh(value))).toEqual([value]);
      }),
      { numRuns: 150 },
    );
  });

  it("keeps several values as separate words", () => {
    fc.assert(
      fc.property(fc.array(hostileString, { minLength: 1, maxLength: 4 }), (values) => {
        expect(bashEcho(shWords(values))).toEqual(values);
      }),
      { numRuns: 50 },
    );
  });

  it("quotes a leading tilde (shell-quote 1.8.3 did not)", () => {
    expect(bashEcho(sh("~root"))).toEqual(["~root"]);
  });

  it("never lets a command substitution run", () => {
    expect(bashEcho(`${sh("$(echo pwned)")} ${sh("`echo pwned`")}`)).toEqual(["$(echo pwned)", "`echo pwned`"]);
  });

  it("refuses NUL, which no shell word can carry", () => {
    expect(() => sh("a\0b")).toThrow("NUL");
  });

  it("quotes the empty string as one empty word", () => {
    expect(bashEcho(`${sh("")} ${sh("x")}`)).toEqual(["", "x"]);
  });
});

describe("lua (Lua string literals)", () => {
  it("returns every hostile value byte-identical through a Lua 5.3 parser", () => {
    fc.assert(
      fc.property(fc.oneof(hostileString, fc.string({ unit: "binary" })), (value) => {
        expect(luaEval(lua(value)).equals(Buffer.from(value, "utf8"))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("cannot close the string and inject code", () => {
    const attack = '"; os.execute("id") --';
    expect(luaEval(lua(attack)).toString()).toBe(attack);
    expect(lua(attack)).toBe('"\\"; os.execute(\\"id\\") --"');
  });

  it("escapes a digit after a control byte without swallowing it", () => {
    expect(lua("\n1")).toBe('"\\0101"');
    expect(luaEval(lua("\n1")).toString()).toBe("\n1");
  });

  it("renders lists as Lua tables", () => {
    expect(luaList([])).toBe("{ }");
    expect(luaList(["a", "b c"])).toBe('{ "a", "b c" }');
  });
});

describe("plainPath (formats without quoting)", () => {
  it("passes a plain absolute path unchanged", () => {
    expect(plainPath("x", "/srv/pics-v2/a_b.c")).toBe("/srv/pics-v2/a_b.c");
  });

  it("refuses every hostile character instead of escaping it, and relative paths", () => {
    for (const bad of HOSTILE) {
      expect(() => plainPath("an nginx config", `/srv/a${bad}b`)).toThrow(
        `sync dir cannot be written into an nginx config: ${JSON.stringify(`/srv/a${bad}b`)}`,
      );
    }
    expect(() => plainPath("x", "srv/pics")).toThrow("cannot be written into x");
  });
});
