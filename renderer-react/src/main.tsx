import "./styles.css";
import { PhloemClient, pageConfig } from "./core";
import { mount } from "./react/mount";
import { defaultRegistry } from "./registry";

const config = pageConfig();
const client = new PhloemClient({ url: config.url, path: config.path, components: defaultRegistry.versions() });
const container = document.getElementById("root");
if (container) mount(container, client, defaultRegistry);
client.start();
// Back online: resume now rather than at the end of the backoff wait.
window.addEventListener("online", () => client.transport.reconnectNow());
