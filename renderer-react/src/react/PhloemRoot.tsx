import { useMemo } from "react";
import type { PhloemClient } from "../core";
import type { Registry } from "../registry";
import { PhloemContext } from "./context";
import { NodeView } from "./NodeView";
import { StatusIndicator } from "./StatusIndicator";
import { Toast } from "./Toast";
import { useRootId } from "./useRootId";

function Tree() {
  const rootId = useRootId();
  return rootId === null ? null : <NodeView key={rootId} id={rootId} />;
}

/** Renders the client's tree with the registry's components, plus a connection indicator. */
export function PhloemRoot({ client, registry, status = true }: { client: PhloemClient; registry: Registry; status?: boolean }) {
  const value = useMemo(() => ({ client, registry }), [client, registry]);
  return (
    <PhloemContext.Provider value={value}>
      <main className="ph-app">
        <Tree />
      </main>
      {status ? <StatusIndicator /> : null}
      <Toast />
    </PhloemContext.Provider>
  );
}
