import { useEffect, useState } from "react";
import { useServerError } from "./useServerError";

/** How long a handler error stays on screen: long enough to read one sentence. */
const SHOW_MS = 6000;

/**
 * Shows a server-side failure of the app's handler (handler_error, internal_error). Other
 * codes (stale_revision, unknown_node, …) are benign races the next patch resolves.
 */
export function ErrorToast() {
  const error = useServerError();
  const [hidden, setHidden] = useState<object | null>(null);
  useEffect(() => {
    if (!error) return;
    const timer = setTimeout(() => setHidden(error), SHOW_MS);
    return () => clearTimeout(timer);
  }, [error]);
  if (!error || hidden === error || (error.code !== "handler_error" && error.code !== "internal_error")) return null;
  return (
    <div className="ph-toast" role="alert">
      {error.code === "handler_error" ? "The app failed to handle that action." : "The server failed."}
      {error.message ? <span className="ph-toast__detail">{error.message}</span> : null}
    </div>
  );
}
