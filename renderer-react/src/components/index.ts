export { Button } from "./Button/Button";
export { Column } from "./Column/Column";
export { JobProgress } from "./JobProgress/JobProgress";
export { Link } from "./Link/Link";
export { Text } from "./Text/Text";
export { TextInput } from "./TextInput/TextInput";
