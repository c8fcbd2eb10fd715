import { createElement, memo, useMemo } from "react";
import type { NodeAttrs } from "../registry";
import { usePhloem } from "./context";
import { Fallback } from "./Fallback";
import { NodeBoundary } from "./NodeBoundary";
import { useNode } from "./useNode";

/**
 * Renders node `id`. Memoised on the id and subscribed to that node alone, so a patch
 * re-renders the nodes it touched and nothing else; children render by id.
 */
export const NodeView = memo(function NodeView({ id }: { id: string }) {
  const { client, registry } = usePhloem();
  const node = useNode(id);
  const emit = useMemo(() => (name: string, value?: unknown) => void client.sendEvent(id, name, value), [client, id]);
  if (!node) return null;
  const attrs: NodeAttrs = { "data-node-id": node.id, "data-node-type": node.type };
  const children = node.children.length === 0 ? null : node.children.map((c) => <NodeView key={c.id} id={c.id} />);
  const entry = registry.get(node.type);
  if (!entry) return <Fallback type={node.type} attrs={attrs}>{children}</Fallback>;
  const element = createElement(entry.component, { id: node.id, type: node.type, props: node.props, attrs, emit, children });
  return entry.builtin ? element : <NodeBoundary type={node.type} attrs={attrs}>{element}</NodeBoundary>;
});
