import { describe, expect, it } from "vitest";
import * as core from "../src/core";
import * as pkg from "../src";

describe("public surface", () => {
  it("the core entry exports exactly the protocol client pieces", () => {
    expect(Object.keys(core).sort()).toEqual(
      [
        "CLIENT_INFO",
        "COALESCE_MS",
        "Edits",
        "JOB_CHECKS",
        "JobStore",
        "LOG_KEEP",
        "PatchConflict",
        "PhloemClient",
        "SUBPROTOCOL",
        "Store",
        "TERMINAL",
        "TokenBucket",
        "Transport",
        "Tree",
        "VERSIONS",
        "WS_PATH",
        "browserEnvironment",
        "browserSocket",
        "checkNode",
        "checkOp",
        "installTestHooks",
        "normaliseNode",
        "pageConfig",
        "parseServerFrame",
        "realTimers",
        "resolveConfig",
        "safeHref",
      ].sort(),
    );
  });

  it("the package entry adds the React binding, the registry and the core components", () => {
    const added = Object.keys(pkg).filter((k) => !(k in core)).sort();
    expect(added).toEqual(
      [
        "Button",
        "Column",
        "Fallback",
        "JobProgress",
        "Link",
        "NodeView",
        "PhloemContext",
        "PhloemRoot",
        "Registry",
        "StatusIndicator",
        "Text",
        "TextInput",
        "Toast",
        "createRegistry",
        "defaultRegistry",
        "mount",
        "register",
        "useEdit",
        "useJob",
        "useNode",
        "useOffline",
        "usePhloem",
        "useNotice",
        "useRootId",
        "useStatus",
      ].sort(),
    );
  });
});
