// After `vite build -c vite.lib.config.ts` and the declarations: the stylesheet as its own
// export ("@phloem/react/styles.css": an app imports it once, so the JS stays side-effect-free)
// and the repository's licence inside the package.
import { copyFileSync } from "node:fs";

const here = new URL("../", import.meta.url);
copyFileSync(new URL("src/styles.css", here), new URL("lib/styles.css", here));
copyFileSync(new URL("../LICENSE", here), new URL("LICENSE", here));
