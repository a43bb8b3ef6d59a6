// Validates an AsyncAPI document with the reference parser (@asyncapi/parser, npm):
// node tests/unit/validate_asyncapi.mjs docs/asyncapi.json; exit 1 on any error.
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(process.argv[2], "utf8"));
const errors = diagnostics.filter((d) => d.severity === 0);
for (const d of diagnostics) {
  console.log(JSON.stringify({ severity: d.severity, code: d.code, message: d.message, path: d.path }));
}
process.exit(document !== undefined && errors.length === 0 ? 0 : 1);
