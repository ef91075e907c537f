/**
 * Two references for the start scenario, so that each run shows how much of a start is
 * Node's, how much the AWS SDK's and how much the program's own:
 * - the floor: Node doing the least a start must do: load `https` and `crypto`, sign one
 *   StartExecution request with SigV4 (by hand, with node:crypto), send it, write the
 *   answer to a JSON file;
 * - the SDK client alone: SFNClient and StartExecutionCommand used plainly (sdk-alone.ts),
 *   bundled by esbuild into one minified file with the program's own bundling choices, and
 *   run with a V8 code cache (written by the warm-up round, one per Node version).
 */
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const HERE = dirname(fileURLToPath(import.meta.url));

/** SigV4 for one POST with a JSON body; a reference, not the program's signer (the SDK's). */
const FLOOR = `"use strict";
const http = require("node:http"), https = require("node:https");
const { createHash, createHmac } = require("node:crypto");
const { writeFileSync } = require("node:fs");
const [endpoint, stateMachineArn, name, out] = process.argv.slice(2);
const url = new URL(endpoint);
const region = process.env.AWS_DEFAULT_REGION;
const body = JSON.stringify({ stateMachineArn, name });
const amzDate = new Date().toISOString().replace(/[-:]|\\.\\d{3}/g, "");
const day = amzDate.slice(0, 8);
const hash = (s) => createHash("sha256").update(s).digest("hex");
const hmac = (k, s) => createHmac("sha256", k).update(s).digest();
const headers = {
  "content-type": "application/x-amz-json-1.0",
  host: url.host,
  "x-amz-date": amzDate,
  "x-amz-target": "AWSStepFunctions.StartExecution",
};
const names = Object.keys(headers).sort();
const canonical = ["POST", "/", "", names.map((h) => h + ":" + headers[h]).join("\\n") + "\\n", names.join(";"), hash(body)].join("\\n");
const scope = day + "/" + region + "/states/aws4_request";
const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, hash(canonical)].join("\\n");
let key = hmac("AWS4" + process.env.AWS_SECRET_ACCESS_KEY, day);
for (const part of [region, "states", "aws4_request"]) key = hmac(key, part);
const authorization = "AWS4-HMAC-SHA256 Credential=" + process.env.AWS_ACCESS_KEY_ID + "/" + scope +
  ", SignedHeaders=" + names.join(";") + ", Signature=" + hmac(key, toSign).toString("hex");
const request = (url.protocol === "https:" ? https : http).request(url, {
  method: "POST",
  headers: { ...headers, authorization, "content-length": Buffer.byteLength(body) },
}, (res) => {
  let text = "";
  res.setEncoding("utf8");
  res.on("data", (c) => { text += c; });
  res.on("end", () => {
    if (res.statusCode !== 200) { console.error(res.statusCode + " " + text); process.exitCode = 1; return; }
    writeFileSync(out, JSON.stringify({ executionArn: JSON.parse(text).executionArn }));
  });
});
request.end(body);
`;

/** Compiles the bundled client with a code cache of its own Node version, as the program does. */
const LOADER = `"use strict";
const { readFileSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");
const { Script } = require("node:vm");
const file = join(__dirname, "sdk-alone.cjs");
const cacheFile = join(__dirname, "sdk-alone-" + process.version + ".v8");
let cachedData;
try { cachedData = readFileSync(cacheFile); } catch {}
const script = new Script("(function (exports, require, module, __filename, __dirname) {" + readFileSync(file, "utf8") + "\\n})", { filename: file, cachedData });
if (!cachedData || script.cachedDataRejected) process.once("exit", () => writeFileSync(cacheFile, script.createCachedData()));
script.runInThisContext()(module.exports, require, module, file, __dirname);
`;

export interface StartReferences {
  /** `node <floor> ENDPOINT ARN NAME OUT` */
  floor: string;
  /** `node <sdkAlone> ENDPOINT ARN NAME OUT` */
  sdkAlone: string;
  /** The bundled client's size in bytes. */
  sdkAloneBytes: number;
}

/** Writes both references into `dir`. */
export async function writeStartReferences(dir: string): Promise<StartReferences> {
  const floor = join(dir, "floor.cjs");
  await writeFile(floor, FLOOR);
  const built = await esbuild.build({
    entryPoints: [join(HERE, "sdk-alone.ts")],
    outfile: join(dir, "sdk-alone.cjs"),
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    // As the program's build: the SDK's tree-shaking ES module builds, and its HTTP handler's
    // import() of node:http as require() (else Node 22 and 24 also load undici).
    mainFields: ["module", "main"],
    supported: { "dynamic-import": false },
    minify: true,
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
  });
  const sdkAlone = join(dir, "sdk-alone-loader.cjs");
  await writeFile(sdkAlone, LOADER);
  const sdkAloneBytes = Object.values(built.metafile.outputs)[0]?.bytes ?? 0;
  return { floor, sdkAlone, sdkAloneBytes };
}
