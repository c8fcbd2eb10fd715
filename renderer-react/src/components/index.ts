export { Button } from "./Button/Button";
export { Column } from "./Column/Column";
export { Link } from "./Link/Link";
export { Text } from "./Text/Text";
export { TextInput } from "./TextInput/TextInput";
