export { Button } from "./Button/Button";
export { Column } from "./Column/Column";
export { Text } from "./Text/Text";
