/** The schemes a renderer may load or follow (PHL-SEC-003). */
const SAFE_SCHEMES = new Set(["http:", "https:", "mailto:"]);

/**
 * The URL a Link may point at: `href` resolved against `base` (the page) by the URL parser a
 * browser itself uses, so leading controls and spaces, tabs or newlines inside the scheme, and
 * upper case cannot disguise `javascript:`; null unless the scheme is http, https or mailto
 * (PHL-SEC-003). The result is the parser's serialisation: what was checked is what is used.
 */
export function safeHref(href: unknown, base: string): string | null {
  // Not a string, or empty once the parser's own trimming is done: no URL at all, not the page
  // itself, which "" would resolve to (PHL-CLIENT-015).
  if (typeof href !== "string" || href.trim() === "") return null;
  let url: URL;
  try {
    url = new URL(href, base);
  } catch {
    return null; // unparseable, or relative to a base that has none (about:blank)
  }
  return SAFE_SCHEMES.has(url.protocol) ? url.href : null;
}
