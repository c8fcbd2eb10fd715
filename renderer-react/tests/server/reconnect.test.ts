// @vitest-environment node
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, connect as tcpConnect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { PhloemClient, type SocketFactory, type SocketLike } from "../../src/core";

// The React-free core against the real reference server (`phloem run` on the conformance
// fixture app), through a TCP proxy the test cuts as a dying network would. Python is not
// optional here: without the repository's .venv this test fails, it does not skip.

const REPO = resolve(__dirname, "../../..");
const PHLOEM = join(REPO, ".venv", "bin", "phloem");
const APP = "sdk-python/fixtures/apps.py";
const COMPONENTS = { Column: 1, Text: 1, Button: 1 };
/** Server start-up (Django set-up and migrations on a fresh SQLite file) on a busy 2-core CI box. */
const START_TIMEOUT_MS = 45_000;

/** Node 20 has no global WebSocket: `ws`, behind the transport's small socket contract. */
class NodeSocket implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  private readonly ws: WebSocket;

  constructor(url: string, protocols: string[], received: Array<Record<string, unknown>>) {
    this.ws = new WebSocket(url, protocols);
    this.ws.on("open", () => this.onopen?.({}));
    this.ws.on("message", (data: Buffer, isBinary: boolean) => {
      const text = data.toString("utf8");
      if (!isBinary) received.push(JSON.parse(text) as Record<string, unknown>);
      this.onmessage?.({ data: isBinary ? data : text });
    });
    this.ws.on("close", (code: number) => this.onclose?.({ code }));
    this.ws.on("error", (err: Error) => this.onerror?.(err));
  }

  send(data: string): void {
    this.ws.send(data);
  }

  close(code?: number, reason?: string): void {
    this.ws.close(code, reason);
  }
}

/** A TCP relay in front of the server; `cut()` resets every connection through it. */
class Proxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: number) {
    this.server = createServer((client) => {
      const upstream = tcpConnect(this.target, "127.0.0.1");
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => undefined); // a reset is what we are here for
      }
      client.pipe(upstream).pipe(client);
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((ok) => this.server.listen(0, "127.0.0.1", ok));
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("proxy has no port");
    this.port = address.port;
  }

  /** Every open connection reset (RST), as when the network dies under a live WebSocket. */
  cut(): number {
    const n = this.sockets.size;
    for (const s of this.sockets) s.resetAndDestroy();
    return n;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }
}

async function until(what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `phloem run APP --port 0`: the server picks a free port and prints it when it is ready. */
async function startServer(dataDir: string): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  if (!existsSync(PHLOEM)) {
    throw new Error(`${PHLOEM} is missing: create the venv (make demo / make test) before npm test`);
  }
  const child = spawn(PHLOEM, ["run", APP, "--port", "0"], {
    cwd: REPO,
    env: { ...process.env, PHLOEM_DATA_DIR: dataDir, PYTHONUNBUFFERED: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const port = await new Promise<number>((ok, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`phloem run did not start within ${START_TIMEOUT_MS} ms:\n${output}`)),
      START_TIMEOUT_MS,
    );
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /serving .* at http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        ok(Number(m[1]));
      }
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    child.on("error", (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`phloem run exited with ${code}:\n${output}`));
    });
  });
  return { child, port, output: () => output };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

describe("reconnect against the reference server", () => {
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let proxy: Proxy | undefined;
  let client: PhloemClient | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), "phloem-vitest-"));

  afterAll(async () => {
    client?.stop();
    await proxy?.close();
    if (server) await stopServer(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    "a cut connection resumes the session (welcome resumed: true) and the count stays exact",
    async () => {
      // Started here, not in beforeAll: a missing venv is this test failing, never a skip.
      server = await startServer(dataDir);
      proxy = new Proxy(server.port);
      await proxy.listen();
      const received: Array<Record<string, unknown>> = [];
      const sockets: NodeSocket[] = [];
      const createSocket: SocketFactory = (url, protocols) => {
        const socket = new NodeSocket(url, protocols, received);
        sockets.push(socket);
        return socket;
      };
      client = new PhloemClient({
        url: `ws://127.0.0.1:${proxy!.port}/phloem/ws`,
        path: "/counter",
        components: COMPONENTS,
        createSocket,
        environment: null,
      }).start();
      const c = client;
      const count = () => c.store.getNode("count")?.props.text;
      const welcomes = () => received.filter((m) => m.type === "welcome");

      await until("the first snapshot", () => count() === "Count: 0");
      expect(welcomes()).toHaveLength(1);
      expect(welcomes()[0]).not.toHaveProperty("resumed", true);

      c.sendEvent("inc", "click");
      c.sendEvent("inc", "click");
      await until("two clicks applied", () => count() === "Count: 2");

      // One click in flight as the network dies: it is either handled before the cut (and its
      // answer replayed) or resent after the resume; applied once either way.
      c.sendEvent("inc", "click");
      expect(proxy!.cut()).toBeGreaterThan(0);
      await until("the transport to notice", () => c.status !== "open");
      c.sendEvent("inc", "click"); // clicked while disconnected

      await until("a resumed welcome", () => welcomes().length === 2 && c.status === "open");
      expect(welcomes()[1]).toMatchObject({ resumed: true, session: welcomes()[0]!.session });
      expect(sockets.length).toBeGreaterThanOrEqual(2);
      await until("the clicks across the cut applied", () => count() === "Count: 4");

      // Nothing doubled: one more click lands on exactly 5.
      c.sendEvent("inc", "click");
      await until("the click after the resume", () => count() === "Count: 5");
      await new Promise((r) => setTimeout(r, 200)); // a late duplicate would show up by now
      expect(count()).toBe("Count: 5");
      expect(received.filter((m) => m.type === "error")).toEqual([]);
    },
    START_TIMEOUT_MS + 60_000,
  );
});
