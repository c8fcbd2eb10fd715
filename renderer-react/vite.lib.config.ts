import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// `npm run build:lib`: @phloem/react as a library (ESM) for React apps that bundle it
// themselves; `npm run build` (vite.config.ts) is the app the reference server serves.
// Two entries: the package ("@phloem/react") and the React-free core ("@phloem/react/core");
// code they share goes to a chunk both import, so the core entry pulls in no React.
export default defineConfig({
  plugins: [react()],
  build: {
    target: "es2022",
    outDir: "lib",
    emptyOutDir: true,
    copyPublicDir: false,
    sourcemap: true,
    // The app that bundles this minifies; readable output makes its source maps and stack
    // traces useful.
    minify: false,
    lib: {
      entry: { index: "src/index.ts", core: "src/core/index.ts" },
      formats: ["es"],
    },
    rollupOptions: {
      // Peer dependencies: the app's own React, never a second copy.
      external: [/^react($|\/)/, /^react-dom($|\/)/],
    },
  },
});
