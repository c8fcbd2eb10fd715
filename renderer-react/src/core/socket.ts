/**
 * The small contract the transport needs from a WebSocket, so tests (and other hosts) can
 * inject their own without a network. The browser's WebSocket satisfies it.
 */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type SocketFactory = (url: string, protocols: string[]) => SocketLike;

/** Clock and timers, injectable for tests. */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const browserSocket: SocketFactory = (url, protocols) => new WebSocket(url, protocols) as unknown as SocketLike;

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** What the page's surroundings report: the network going away or back, the page shown again. */
export type EnvironmentChange = "offline" | "online" | "visible";

/**
 * Where network and visibility changes come from, injectable for tests. `watch` calls the
 * listener on each change and returns the function that stops watching.
 */
export interface Environment {
  watch(listener: (change: EnvironmentChange) => void): () => void;
}

/**
 * The browser's `offline` / `online` events on `window`, and `visibilitychange` to visible
 * after the page was hidden (`visible`). Outside a browser it reports nothing.
 */
export const browserEnvironment: Environment = {
  watch(listener) {
    if (typeof window === "undefined" || typeof document === "undefined") return () => undefined;
    let hidden = document.visibilityState === "hidden";
    const offline = () => listener("offline");
    const online = () => listener("online");
    const visibility = () => {
      if (document.visibilityState === "hidden") hidden = true;
      else if (hidden) {
        hidden = false;
        listener("visible");
      }
    };
    window.addEventListener("offline", offline);
    window.addEventListener("online", online);
    document.addEventListener("visibilitychange", visibility);
    return () => {
      window.removeEventListener("offline", offline);
      window.removeEventListener("online", online);
      document.removeEventListener("visibilitychange", visibility);
    };
  },
};
