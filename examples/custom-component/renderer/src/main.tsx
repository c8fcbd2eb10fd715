import "@phloem/react/styles.css";
import { register, startRenderer } from "@phloem/react";
import { Sparkline } from "./Sparkline";

// Announced in hello.components as {"Sparkline": 1}: the server sends Sparkline nodes as
// themselves (a renderer without it gets a Column fallback instead, PHL-HS-016).
register("Sparkline", Sparkline, { version: 1 });
startRenderer();
