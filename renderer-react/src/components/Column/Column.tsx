import type { CSSProperties } from "react";
import type { NodeProps } from "../../registry";
import type { ColumnProps } from "../../core/wire.gen";

const ALIGN: Partial<Record<string, CSSProperties["alignItems"]>> = {
  start: "flex-start",
  center: "center",
  end: "flex-end",
  stretch: "stretch",
};

/** Lays its children out vertically (PHL-COMP-010); projection: role group. */
export function Column({ props, children, attrs }: NodeProps<ColumnProps>) {
  const style: CSSProperties = {};
  // Out-of-schema values read as absent (PHL-COMP-004).
  if (typeof props.gap === "number" && props.gap >= 0 && props.gap <= 256) style.gap = `${props.gap}px`;
  const align = typeof props.align === "string" ? ALIGN[props.align] : undefined;
  if (align) style.alignItems = align;
  return (
    <div {...attrs} role="group" className="ph-column" style={style}>
      {children}
    </div>
  );
}
