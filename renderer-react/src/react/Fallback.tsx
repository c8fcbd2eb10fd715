import type { ReactNode } from "react";
import type { NodeAttrs } from "../registry";

/** Stands in for a component type this renderer lacks (PHL-COMP-002): visible, children kept. */
export function Fallback({ type, attrs, children, reason }: { type: string; attrs: NodeAttrs; children: ReactNode; reason?: string }) {
  return (
    <div {...attrs} role="group" className="ph-fallback" data-fallback="true">
      <div className="ph-fallback__label">{reason ?? `Unsupported component: ${type}`}</div>
      {children}
    </div>
  );
}
