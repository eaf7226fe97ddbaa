#!/usr/bin/env node
// Amazon's APL validator (the npm package apl-suggester) over the coach's screens.
//
//   node tools/apl_check.js < checks.json
//
// Reads {"documents": {"name": <APL document>, ...}, "datasources": [<datasources>, ...]} on
// stdin and prints every finding as a JSON list of {where, path, message, level} on stdout:
// an empty list means zero findings. The validator prints notes of its own ("No mixin for
// component …", for components that have no shared properties to add) through console.warn;
// they are kept quiet so that the output is the list alone.
'use strict';

const { StaticAplTemplateValidator } = require('apl-suggester');

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const checks = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const validator = new StaticAplTemplateValidator();
  const findings = [];
  const { log, warn } = console;
  console.log = () => {};
  console.warn = () => {};
  try {
    for (const [name, document] of Object.entries(checks.documents || {})) {
      for (const info of await validator.validate(document)) {
        findings.push({ where: `document ${name}`, path: info.path, message: info.errorMessage, level: info.level });
      }
    }
    for (const [index, datasources] of (checks.datasources || []).entries()) {
      for (const info of await validator.validateDataSources(datasources)) {
        findings.push({ where: `datasources ${index}`, path: info.path, message: info.errorMessage, level: info.level });
      }
    }
  } finally {
    console.log = log;
    console.warn = warn;
  }
  process.stdout.write(JSON.stringify(findings) + '\n');
}

main().catch((error) => {
  process.stderr.write(`apl_check: ${error && error.stack ? error.stack : error}\n`);
  process.exit(2);
});
