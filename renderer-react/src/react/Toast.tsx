import { useEffect, useState } from "react";
import type { Notice } from "../core";
import { useNotice } from "./useNotice";

/** How long a notice stays on screen: long enough to read two short sentences. */
const SHOW_MS = 6000;

/** Shows the client's latest notice for a few seconds. */
export function Toast() {
  const notice = useNotice();
  const [dismissed, setDismissed] = useState<Notice | null>(null);
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => setDismissed(notice), SHOW_MS);
    return () => clearTimeout(timer);
  }, [notice]);
  if (!notice || dismissed === notice) return null;
  return (
    <div className={`ph-toast ph-toast--${notice.kind}`} role={notice.kind === "error" ? "alert" : "status"}>
      {notice.text}
      {notice.detail ? <span className="ph-toast__detail">{notice.detail}</span> : null}
    </div>
  );
}
