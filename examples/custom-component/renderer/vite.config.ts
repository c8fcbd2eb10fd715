import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  // One React: the app's. (In this repository @phloem/react is a linked folder with its own
  // node_modules; from the registry this line changes nothing.)
  resolve: { dedupe: ["react", "react-dom"] },
  // The Phloem server serves index.html at every page path and the bundle under /assets/.
  base: "/",
});
