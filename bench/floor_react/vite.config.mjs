// Builds the React floor with the renderer's own Vite and React (no node_modules here):
//   cd renderer-react && node node_modules/vite/bin/vite.js build --config ../bench/floor_react/vite.config.mjs
// FLOOR_OUT names the output directory (bench/floors.py passes a temporary one).
import { fileURLToPath } from "node:url";

const modules = fileURLToPath(new URL("../../renderer-react/node_modules/", import.meta.url));

export default {
  root: fileURLToPath(new URL(".", import.meta.url)),
  logLevel: "warn",
  resolve: { alias: { react: `${modules}react`, "react-dom": `${modules}react-dom` } },
  build: { outDir: process.env.FLOOR_OUT ?? "dist", emptyOutDir: true },
};
