import type { PhloemClient } from "./client";
import type { PhloemConfig } from "./config";
import type { Status } from "./transport";

/** What browser tests reach as `window.__phloem`. */
export interface PhloemTestHooks {
  /**
   * Drops the WebSocket as a dying network would (close 4000, no proxy needed); the renderer
   * then resumes its session, after `downMs` if given, else after its usual ~100 ms backoff.
   */
  dropConnection(downMs?: number): void;
  /** idle, connecting, open, reconnecting, failed or closed. */
  status(): Status;
}

declare global {
  interface Window {
    __phloem?: PhloemTestHooks;
  }
}

interface HookTarget {
  __PHLOEM_CONFIG__?: PhloemConfig;
  __phloem?: PhloemTestHooks;
}

/**
 * Installs `window.__phloem` for `client`, only when the page opted in with
 * `window.__PHLOEM_CONFIG__ = {testHooks: true}` (production pages expose nothing).
 * Returns whether it did.
 */
export function installTestHooks(client: PhloemClient, target: HookTarget = window): boolean {
  if (target.__PHLOEM_CONFIG__?.testHooks !== true) return false;
  target.__phloem = {
    dropConnection: (downMs) => client.transport.dropConnection(downMs),
    status: () => client.status,
  };
  return true;
}
