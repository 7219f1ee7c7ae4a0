// `npm test`'s first step: one line naming the Node this project needs (.nvmrc), instead of a crash deep inside
// vitest or the Pulumi SDK on an older one. Plain CommonJS, so it runs on any Node.
const fs = require("node:fs");
const path = require("node:path");

const want = Number(fs.readFileSync(path.join(__dirname, "..", ".nvmrc"), "utf8").trim());
const have = Number(process.versions.node.split(".")[0]);
if (have < want) {
    process.stderr.write(`node ${process.version} is too old for this project: use Node ${want} (see .nvmrc), e.g. \`nvm use\`\n`);
    process.exit(1);
}
