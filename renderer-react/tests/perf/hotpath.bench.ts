import { bench, describe } from "vitest";
import { PhloemClient } from "../../src/core";
import { fakeNetwork, snapshot, welcome } from "../helpers/fakeSocket";

// The core's share of the patch → DOM path: a `ui.patch` frame from the socket to the store's
// node listener (no React). Run: npx vitest bench --run tests/perf/hotpath.bench.ts

const net = fakeNetwork();
const client = new PhloemClient({
  url: "ws://bench/phloem/ws",
  path: "/",
  components: { Column: 1, Text: 1, Button: 1 },
  createSocket: net.factory,
  environment: null,
}).start();
const s = net.last();
s.open();
s.push(welcome(1, { limits: { max_frame_bytes: 65536, max_events_per_second: 50, heartbeat_seconds: 20 } }));
s.push(snapshot(2, 1));
let heard = 0;
client.store.subscribeNode("count", () => void heard++);
let seq = 2;
let rev = 1;

describe("core hot path", () => {
  bench("ui.patch frame → store → node listener", () => {
    seq += 1;
    rev += 1;
    const frame = `{"type":"ui.patch","seq":${seq},"base":${rev - 1},"rev":${rev},"event":${seq},"ops":[{"id":"count","set":{"text":"Count: ${rev}"}}]}`;
    s.onmessage?.({ data: frame });
    s.sent.length = 0;
  });
});
