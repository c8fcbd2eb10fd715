import type { CSSProperties } from "react";
import { COMPONENT_TYPE } from "../../core/catalog.gen"; // the Column schema's `fallback`
import type { ColumnProps } from "../../core/wire.gen";
import { Fallback } from "../../react/Fallback";
import type { NodeProps } from "../../registry";

const ALIGN: Partial<Record<string, CSSProperties["alignItems"]>> = {
  start: "flex-start",
  center: "center",
  end: "flex-end",
  stretch: "stretch",
};

/**
 * Lays its children out vertically (PHL-COMP-010), honouring `gap` and `align` (PHL-COMP-015);
 * projection: role group. `align` absent, or out of schema (PHL-COMP-004), is the spec's
 * default "stretch" (spec/1.0/components/Column.md): every child spans the column's width,
 * except that a Button or Link keeps its own width, as a CSS flex item with a definite width
 * does (`width: fit-content`, styles.css).
 */
export function Column({ props, children, attrs }: NodeProps<ColumnProps>) {
  // Sent by the server in place of a type this renderer did not declare (PHL-HS-016): shown
  // exactly as the renderer's own fallback for that type (PHL-COMP-018).
  if (typeof props.fallback === "string" && COMPONENT_TYPE.test(props.fallback)) {
    return (
      <Fallback type={props.fallback} attrs={attrs}>
        {children}
      </Fallback>
    );
  }
  const style: CSSProperties = {};
  // Out-of-schema values read as absent (PHL-COMP-004).
  if (typeof props.gap === "number" && props.gap >= 0 && props.gap <= 256) style.gap = `${props.gap}px`;
  const align = typeof props.align === "string" && Object.hasOwn(ALIGN, props.align) ? ALIGN[props.align] : undefined;
  style.alignItems = align ?? "stretch";
  return (
    <div {...attrs} role="group" className="ph-column" style={style}>
      {children}
    </div>
  );
}
