import type { NodeProps } from "../../registry";
import type { TextProps } from "../../core/wire.gen";

/**
 * Plain text (PHL-COMP-011): rendered as a React text child, never as HTML (PHL-SEC-002).
 * Children are not part of Text's contract and are not rendered.
 */
export function Text({ props, attrs }: NodeProps<TextProps>) {
  // A prop that does not validate reads as absent: "" for the required text (PHL-COMP-004).
  const text = typeof props.text === "string" ? props.text : "";
  switch (props.variant) {
    case "heading":
      return <h2 {...attrs} className="ph-text ph-text--heading">{text}</h2>;
    case "caption":
      return <p {...attrs} className="ph-text ph-text--caption">{text}</p>;
    case "code":
      return <pre {...attrs} className="ph-text ph-text--code">{text}</pre>;
    default:
      return <p {...attrs} className="ph-text">{text}</p>;
  }
}
