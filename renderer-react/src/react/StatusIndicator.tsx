import type { Ending, Status } from "../core";
import { usePhloem } from "./context";
import { useOffline } from "./useOffline";
import { useStatus } from "./useStatus";

const LABELS: Partial<Record<Status, string>> = {
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  failed: "This page cannot connect to the server",
  closed: "Disconnected",
};

/** Why the connection is over for good (PHL-CLIENT-001, PHL-CLIENT-002, PHL-CLIENT-004). */
const ENDINGS: Record<Ending, string> = {
  version: "This server speaks a protocol version this page does not",
  unauthorized: "Sign in to use this page, then reload it",
  "taken-over": "This session is open in another window; reload to use it here",
  ended: "The session has ended; reload to start again",
  stopped: "Disconnected",
};

/** Why the renderer is reconnecting, when the browser knows: the network is gone. */
const OFFLINE = "Offline. Reconnecting when the network returns…";

/**
 * A small pill while the connection is not open; nothing when all is well. `data-status` is
 * the transport's status (`data-ending` why it is over, once it is); `data-offline` is set
 * while the browser reports no network.
 */
export function StatusIndicator() {
  const status = useStatus();
  // The ending changes only with the status, so the status subscription re-renders for it.
  const ending = usePhloem().client.transport.ending;
  const offline = useOffline() && status !== "open";
  const label =
    offline && (status === "reconnecting" || status === "connecting")
      ? OFFLINE
      : ending !== null && (status === "failed" || status === "closed")
        ? ENDINGS[ending]
        : LABELS[status];
  return (
    <div
      className={`ph-status ph-status--${status}`}
      role="status"
      aria-live="polite"
      data-status={status}
      data-ending={ending ?? undefined}
      data-offline={offline || undefined}
      hidden={!label}
    >
      {label}
    </div>
  );
}
