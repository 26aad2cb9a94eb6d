// A second build entry (dist/config-schema.js): the JSON Schema of the configuration file, for
// scripts/gen-schema.mjs, which writes config-schema.json.
export { configJsonSchema, fileConfigSchema } from "./config/schema.ts";
