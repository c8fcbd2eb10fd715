import type { HeadingProps } from "../../core/wire.gen";
import type { NodeProps } from "../../registry";

const LEVELS = ["h1", "h2", "h3", "h4", "h5", "h6"] as const;

/**
 * A section heading (Heading.md): `<h1>`…`<h6>` by `props.level`, `<h2>` when it is absent or
 * does not validate (PHL-COMP-004). Its text is a React text child, never HTML (PHL-SEC-002).
 */
export function Heading({ props, attrs }: NodeProps<HeadingProps>) {
  const text = typeof props.text === "string" ? props.text : "";
  const level = typeof props.level === "number" && Number.isInteger(props.level) ? props.level : 2;
  const Tag = LEVELS[level - 1] ?? "h2";
  return (
    <Tag {...attrs} className={`ph-heading ph-heading--${Tag}`}>
      {text}
    </Tag>
  );
}
