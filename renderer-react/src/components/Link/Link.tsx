import type { LinkProps } from "../../core/wire.gen";
import { safeHref } from "../../core/url";
import type { NodeProps } from "../../registry";

/**
 * A hyperlink to `href` resolved against the page, opening in a new tab without access to
 * this one (PHL-COMP-023); plain text when the scheme is not http, https or mailto (PHL-SEC-003).
 */
export function Link({ props, attrs }: NodeProps<LinkProps>) {
  const text = typeof props.text === "string" ? props.text : "";
  const href = safeHref(props.href, document.baseURI);
  if (href === null) {
    return (
      <span {...attrs} className="ph-link ph-link--inert">
        {text}
      </span>
    );
  }
  return (
    <a {...attrs} className="ph-link" href={href} target="_blank" rel="noopener noreferrer">
      {text}
    </a>
  );
}
