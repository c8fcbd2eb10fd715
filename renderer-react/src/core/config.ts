/** Where the client connects and which page it asks for. */
export interface PhloemConfig {
  /** WebSocket URL; default ws(s)://<host>/phloem/ws. */
  url?: string;
  /** Page path sent in hello.path; default location.pathname. */
  path?: string;
  /** Install the `window.__phloem` test hooks (see installTestHooks). Never set it in production. */
  testHooks?: boolean;
}

export type ResolvedConfig = Required<Pick<PhloemConfig, "url" | "path">>;

declare global {
  interface Window {
    /** Set before the bundle runs (e.g. by the conformance Playwright adapter's init script). */
    __PHLOEM_CONFIG__?: PhloemConfig;
  }
}

export const WS_PATH = "/phloem/ws";

interface LocationLike {
  protocol: string;
  host: string;
  pathname: string;
}

/**
 * `base`: the path the app is mounted at, "/" unless a Django project serves it under a prefix
 * ("/tools/counter/"): then the socket is under the prefix too and hello.path is the page's
 * path within the app.
 */
export function resolveConfig(location: LocationLike, override?: PhloemConfig, base = "/"): ResolvedConfig {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const prefix = base.replace(/\/+$/, ""); // "" at the root
  const pathname = location.pathname || "/";
  const inside = prefix !== "" && (pathname === prefix || pathname.startsWith(`${prefix}/`));
  return {
    url: override?.url ?? `${scheme}//${location.host}${prefix}${WS_PATH}`,
    path: override?.path ?? (inside ? pathname.slice(prefix.length) || "/" : pathname), // the page's own path within the app, no query (PHL-CLIENT-010)
  };
}

/** The configuration of the page this code runs in; the server names a mount prefix in
 * `<meta name="phloem-base" content="/tools/counter/">`. */
export function pageConfig(): ResolvedConfig {
  const base = document.querySelector('meta[name="phloem-base"]')?.getAttribute("content") ?? "/";
  return resolveConfig(window.location, window.__PHLOEM_CONFIG__, base);
}
