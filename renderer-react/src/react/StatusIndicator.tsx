import type { Status } from "../core";
import { useOffline } from "./useOffline";
import { useStatus } from "./useStatus";

const LABELS: Partial<Record<Status, string>> = {
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  failed: "This server speaks a protocol version this page does not",
  closed: "Disconnected",
};

/** Why the renderer is reconnecting, when the browser knows: the network is gone. */
const OFFLINE = "Offline. Reconnecting when the network returns…";

/**
 * A small pill while the connection is not open; nothing when all is well. `data-status` is
 * the transport's status; `data-offline` is set while the browser reports no network.
 */
export function StatusIndicator() {
  const status = useStatus();
  const offline = useOffline() && status !== "open";
  const label = offline && (status === "reconnecting" || status === "connecting") ? OFFLINE : LABELS[status];
  return (
    <div
      className={`ph-status ph-status--${status}`}
      role="status"
      aria-live="polite"
      data-status={status}
      data-offline={offline || undefined}
      hidden={!label}
    >
      {label}
    </div>
  );
}
