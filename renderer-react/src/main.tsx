import "./styles.css";
import { startRenderer } from "./start";

startRenderer();
