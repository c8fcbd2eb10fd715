// The React floor of `make bench`: the least a React 19 page does to show a counter served over
// a WebSocket. State is set from each message, outside a React event (as a naive app does), so
// the update waits for React's scheduler; no protocol, no tree, no patches.
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";

const ws = new WebSocket(`ws://${location.host}/ws`);
let latest = null;
let show = null;
ws.onmessage = (e) => {
  latest = JSON.parse(e.data).text;
  if (show) show(latest);
};

function App() {
  const [text, setText] = useState(latest);
  useEffect(() => {
    show = setText;
    if (latest !== null) setText(latest); // a message that came before the first render
  }, []);
  if (text === null) return null;
  return (
    <>
      <p data-node-id="count">{text}</p>
      <button data-node-id="inc" onClick={() => ws.send('{"type":"click"}')}>
        Increment
      </button>
    </>
  );
}

createRoot(document.getElementById("app")).render(<App />);
