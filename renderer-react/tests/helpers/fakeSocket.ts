import type { Environment, EnvironmentChange, SocketFactory, SocketLike } from "../../src/core";

/** An in-memory WebSocket: the test plays the server. */
export class FakeSocket implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly sent: string[] = [];
  closedWith: number | null = null;

  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {}

  send(data: string): void {
    this.sent.push(data);
  }

  close(code = 1000): void {
    // As in browsers: a page may close only with 1000 or 3000-4999 (else InvalidAccessError).
    if (code !== 1000 && (code < 3000 || code > 4999)) {
      throw new Error(`InvalidAccessError: close code ${code} is not allowed`);
    }
    this.closedWith = code;
  }

  /** Server side: accept the connection. */
  open(): void {
    this.onopen?.({});
  }

  /** Server side: send a message (object → JSON text frame) or a raw frame. */
  push(message: object | string | ArrayBuffer): void {
    this.onmessage?.({ data: typeof message === "string" || message instanceof ArrayBuffer ? message : JSON.stringify(message) });
  }

  /** Server side: the connection drops. */
  drop(code = 1006): void {
    this.onclose?.({ code });
  }

  /** Client messages received by the server so far, parsed. */
  messages(): Array<Record<string, unknown>> {
    return this.sent.map((s) => JSON.parse(s) as Record<string, unknown>);
  }

  ofType(type: string): Array<Record<string, unknown>> {
    return this.messages().filter((m) => m.type === type);
  }
}

export function fakeNetwork(): { factory: SocketFactory; sockets: FakeSocket[]; last(): FakeSocket } {
  const sockets: FakeSocket[] = [];
  return {
    sockets,
    factory: (url, protocols) => {
      const socket = new FakeSocket(url, protocols);
      sockets.push(socket);
      return socket;
    },
    last() {
      const s = sockets[sockets.length - 1];
      if (!s) throw new Error("no socket was opened");
      return s;
    },
  };
}

export const TOKEN = "tok-0123456789abcdef";

export const welcome = (seq = 1, extra: Record<string, unknown> = {}) => ({
  type: "welcome",
  seq,
  version: "1.0",
  session: "s1",
  token: TOKEN,
  limits: { max_frame_bytes: 65536, max_events_per_second: 50 },
  ...extra,
});

export const counterTree = (n = 0) => ({
  id: "root",
  type: "Column",
  props: { gap: 12 },
  children: [
    { id: "count", type: "Text", props: { text: `Count: ${n}` } },
    { id: "inc", type: "Button", props: { label: "Increment" } },
  ],
});

export const snapshot = (seq = 2, rev = 1, root: object = counterTree()) => ({ type: "ui.snapshot", seq, rev, root });

/** Network and visibility changes the test triggers (the browser's come from window/document). */
export function fakeEnvironment(): Environment & { emit(change: EnvironmentChange): void; readonly watchers: number } {
  const listeners = new Set<(change: EnvironmentChange) => void>();
  return {
    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(change) {
      for (const l of [...listeners]) l(change);
    },
    get watchers() {
      return listeners.size;
    },
  };
}
