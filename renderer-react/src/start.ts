import { PhloemClient, installTestHooks, pageConfig } from "./core";
import { mount } from "./react/mount";
import { defaultRegistry, type Registry } from "./registry";

/**
 * Renders the Phloem app this page is served with: connects to its server (pageConfig: the
 * page's origin, or its mount prefix), mounts the tree in `container` and starts the client.
 * The renderer's own entry is `startRenderer()`; a custom bundle registers its components
 * first (`register("Sparkline", Sparkline)`), then calls it. Import "@phloem/react/styles.css"
 * once for the core components' styles.
 */
export function startRenderer(
  container: Element | null = document.getElementById("root"),
  registry: Registry = defaultRegistry,
): PhloemClient {
  const config = pageConfig();
  const client = new PhloemClient({
    url: config.url,
    path: config.path,
    components: registry.versions(),
    bound: registry.bound(), // custom input components' bound values
  });
  if (container) mount(container, client, registry);
  // The client watches the browser's offline/online and visibility changes itself.
  client.start();
  installTestHooks(client); // window.__phloem, only with __PHLOEM_CONFIG__.testHooks === true
  return client;
}
