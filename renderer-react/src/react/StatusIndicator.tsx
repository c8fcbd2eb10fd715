import type { Status } from "../core";
import { useStatus } from "./useStatus";

const LABELS: Partial<Record<Status, string>> = {
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  failed: "This server speaks a protocol version this page does not",
  closed: "Disconnected",
};

/** A small pill while the connection is not open; nothing when all is well. */
export function StatusIndicator() {
  const status = useStatus();
  const label = LABELS[status];
  return (
    <div className={`ph-status ph-status--${status}`} role="status" aria-live="polite" data-status={status} hidden={!label}>
      {label}
    </div>
  );
}
