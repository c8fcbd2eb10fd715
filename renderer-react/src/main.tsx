import "./styles.css";
import { PhloemClient, installTestHooks, pageConfig } from "./core";
import { mount } from "./react/mount";
import { defaultRegistry } from "./registry";

const config = pageConfig();
const client = new PhloemClient({ url: config.url, path: config.path, components: defaultRegistry.versions() });
const container = document.getElementById("root");
if (container) mount(container, client, defaultRegistry);
// The client watches the browser's offline/online and visibility changes itself.
client.start();
installTestHooks(client); // window.__phloem, only with __PHLOEM_CONFIG__.testHooks === true
