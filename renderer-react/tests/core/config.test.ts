import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/core";

describe("resolveConfig", () => {
  it("defaults to ws://<host>/phloem/ws and the page path", () => {
    expect(resolveConfig({ protocol: "http:", host: "localhost:8000", pathname: "/counter" })).toEqual({
      url: "ws://localhost:8000/phloem/ws",
      path: "/counter",
    });
  });

  it("uses wss on https pages", () => {
    expect(resolveConfig({ protocol: "https:", host: "example.org", pathname: "/" }).url).toBe("wss://example.org/phloem/ws");
  });

  it("window.__PHLOEM_CONFIG__ overrides the url", () => {
    const cfg = resolveConfig({ protocol: "http:", host: "a", pathname: "/p" }, { url: "ws://127.0.0.1:9/" });
    expect(cfg).toEqual({ url: "ws://127.0.0.1:9/", path: "/p" });
  });
});
