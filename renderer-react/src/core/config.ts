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

export function resolveConfig(location: LocationLike, override?: PhloemConfig): ResolvedConfig {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return {
    url: override?.url ?? `${scheme}//${location.host}${WS_PATH}`,
    path: override?.path ?? (location.pathname || "/"), // the page's own path, no query (PHL-CLIENT-010)
  };
}

/** The configuration of the page this code runs in. */
export function pageConfig(): ResolvedConfig {
  return resolveConfig(window.location, window.__PHLOEM_CONFIG__);
}
