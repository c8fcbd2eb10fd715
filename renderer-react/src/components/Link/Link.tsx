import type { LinkProps } from "../../core/wire.gen";
import { safeHref } from "../../core/url";
import type { NodeProps } from "../../registry";

/**
 * A hyperlink to `href` resolved against the page, opening in a new tab without an opener or
 * a referrer (PHL-COMP-023). When the scheme is not http, https or mailto (PHL-SEC-003) it is
 * plain text: an `<a>` with no `href` attribute at all, so no click and no keyboard shortcut
 * can follow it, marked `role="link"` and `aria-disabled` (a link that leads nowhere), with no
 * `target` or `rel` either. Its projection keeps role `link`; only `href` is absent.
 */
export function Link({ props, attrs }: NodeProps<LinkProps>) {
  const text = typeof props.text === "string" ? props.text : "";
  const href = safeHref(props.href, document.baseURI);
  if (href === null) {
    return (
      <a {...attrs} className="ph-link ph-link--inert" role="link" aria-disabled="true">
        {text}
      </a>
    );
  }
  return (
    <a {...attrs} className="ph-link" href={href} target="_blank" rel="noopener noreferrer">
      {text}
    </a>
  );
}
