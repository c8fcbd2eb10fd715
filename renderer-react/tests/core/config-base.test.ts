import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/core";

describe("resolveConfig under a mount prefix", () => {
  const at = (pathname: string) => ({ protocol: "http:", host: "example.org", pathname });

  it("puts the socket under the prefix and strips it from hello.path", () => {
    expect(resolveConfig(at("/tools/counter/"), undefined, "/tools/counter/")).toEqual({
      url: "ws://example.org/tools/counter/phloem/ws",
      path: "/",
    });
    expect(resolveConfig(at("/tools/counter/settings"), undefined, "/tools/counter/").path).toBe("/settings");
  });

  it("the prefix without its slash is the app's root page", () => {
    expect(resolveConfig(at("/tools/counter"), undefined, "/tools/counter/").path).toBe("/");
  });

  it("a path that only starts with the same letters keeps its whole path", () => {
    expect(resolveConfig(at("/tools/counterfeit"), undefined, "/tools/counter/").path).toBe("/tools/counterfeit");
  });

  it("the root base changes nothing", () => {
    expect(resolveConfig(at("/counter"), undefined, "/")).toEqual(resolveConfig(at("/counter")));
  });
});
