import { describe, expect, it } from "vitest";
import * as core from "../src/core";
import * as pkg from "../src";
import { CORE_VERSIONS } from "../src/core/catalog.gen";

describe("public surface", () => {
  it("the core entry exports exactly the protocol client pieces", () => {
    expect(Object.keys(core).sort()).toEqual(
      [
        "CLIENT_INFO",
        "COALESCE_MS",
        "CORE_BOUND",
        "ClientConnection",
        "EventQueue",
        "INPUTS",
        "Liveness",
        "MAX_UNANSWERED",
        "STATES",
        "Sequence",
        "TRANSITIONS",
        "backoffDelay",
        "endingAfterClose",
        "endingAfterFatal",
        "transition",
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
        "jobMessages",
        "normaliseNode",
        "pageConfig",
        "parseServerFrame",
        "realTimers",
        "resolveConfig",
        "safeHref",
        "sameValue",
        "shownValue",
      ].sort(),
    );
  });

  it("the package entry adds the React binding, the registry and the core components", () => {
    const added = Object.keys(pkg).filter((k) => !(k in core)).sort();
    expect(added).toEqual(
      [
        ...Object.keys(CORE_VERSIONS), // one view per core component (generated index)
        "Fallback",
        "JobProgress",
        "NodeView",
        "PhloemContext",
        "PhloemRoot",
        "Registry",
        "StatusIndicator",
        "Toast",
        "createRegistry",
        "defaultRegistry",
        "mount",
        "register",
        "startRenderer",
        "useBound",
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
