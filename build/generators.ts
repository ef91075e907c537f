/**
 * Everything derived from the field catalog. `npm run generate` writes these files;
 * a test regenerates them in memory and fails when a committed copy is stale.
 */
import { createHash } from "node:crypto";
import { Ajv } from "ajv";
import standalone from "ajv/dist/standalone/index.js";
import {
  FIELDS,
  type FieldCondition,
  type FieldSpec,
  INPUT_FIELDS,
  OUTPUT_FIELDS,
} from "../src/fields/catalog.ts";
import type { Template, TemplateField } from "../src/fields/template-types.ts";
import pkg from "../package.json" with { type: "json" };

export const EXTENSION_NAME = "ue-aws-stepfunctions";
export const TEMPLATE_NAME = "AWS Step Functions";
export const VERSION: string = pkg.version;
export const BUNDLE_NAME = `${EXTENSION_NAME}.cjs`;
/** The extension API level the bridge is written against. */
export const API_LEVEL = "1.2.0";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function field(name: string): FieldSpec {
  const f = FIELDS.find((x) => x.name === name);
  if (!f) throw new Error(`catalog refers to unknown field ${name}`);
  return f;
}

/** A stable 32-hex-digit sysId derived from what the object is, so builds never differ. */
export function stableSysId(...parts: string[]): string {
  return createHash("sha256")
    .update([EXTENSION_NAME, ...parts].join("\u0000"))
    .digest("hex")
    .slice(0, 32);
}

/** Text types as the export names them. */
function textType(spec: FieldSpec): string {
  return spec.textType ?? (spec.type === "Script" ? "JSON" : "Plain");
}

function toTemplateField(spec: FieldSpec, index: number): TemplateField {
  const mappingOf = (c: FieldCondition | undefined) => (c ? field(c.field).mapping : null);
  // Keys in the order a real export lists them (alphabetical).
  return {
    arrayNameTitle: null,
    arrayValueTitle: null,
    booleanNoValue: null,
    booleanValueType: "true/false",
    booleanYesValue: null,
    choiceAllowEmpty: false,
    choiceAllowMultiple: false,
    choiceDynamic: spec.dynamicChoiceFields !== undefined,
    // The fields the choice command receives, named by slot as a real export names them.
    choiceFields: (spec.dynamicChoiceFields ?? []).map((name) => field(name).mapping),
    choiceSortOption: "Sequence",
    choices: (spec.choices ?? []).map((value, i) => ({
      fieldValue: value,
      fieldValueLabel: value,
      sequence: i,
      sysId: stableSysId("field", spec.name, "choice", value),
      useFieldValueForLabel: true,
    })),
    defaultListView: false,
    fieldLength: spec.fieldLength ?? null,
    fieldMapping: spec.mapping,
    fieldRestriction: spec.outputOnly ? "Output Only" : "No Restriction",
    fieldType: spec.type,
    fieldValue: spec.default ?? null,
    // Default layout: every field on a row of its own, across both columns.
    formColumnSpan: spec.layout?.columnSpan ?? 2,
    formEndRow: spec.layout?.endRow ?? true,
    formStartRow: spec.layout?.startRow ?? true,
    hint: spec.hint,
    intFieldMax: spec.intMax ?? null,
    intFieldMin: spec.intMin ?? null,
    label: spec.label,
    name: spec.name,
    noSpaceIfHidden: spec.layout?.noSpaceIfHidden ?? !!spec.showIf,
    preserveOutputOnRerun: !!spec.outputOnly,
    preserveValueIfHidden: spec.preserveValueIfHidden ?? false,
    requireIfField: mappingOf(spec.requireIf),
    requireIfFieldValue: spec.requireIf ? spec.requireIf.values.join(",") : null,
    requireIfVisible: spec.requireIfVisible ?? false,
    required: spec.required ?? false,
    sequence: index,
    showIfField: mappingOf(spec.showIf),
    showIfFieldValue: spec.showIf ? spec.showIf.values.join(",") : null,
    sysId: stableSysId("field", spec.name),
    textType: textType(spec),
  };
}

/** The icon's facts as the export records them (the file is template/template_icon.png). */
export interface IconFacts {
  readonly size: number;
}

export const ICON_FILENAME = "template_icon.png";
/** Fixed, so the template does not change with the build date. */
const ICON_DATE = "2026-01-01 00:00:00";
/** Release levels in the export's four-part form. */
export const MIN_RELEASE_LEVEL = "7.2.0.0";
export const EXPORT_RELEASE_LEVEL = "7.2.0.0";

/** The task template in the controller's export format, with every key a real export has. */
export function buildTemplate(icon: IconFacts): Template {
  return {
    agent: null,
    agentCluster: null,
    agentClusterVar: null,
    agentFieldsRestriction: "No Restriction",
    agentType: "Any",
    agentVar: null,
    alwaysCancelOnFinish: false,
    autoCleanup: false,
    automaticOutputRetrievalFieldsRestriction: "No Restriction",
    broadcastCluster: null,
    broadcastClusterVar: null,
    commands: [],
    createConsole: false,
    credentialFieldsRestriction: "No Restriction",
    credentials: null,
    credentialsVar: null,
    description:
      "Start AWS Step Functions executions, supervise them to the end and hand the result to the next task.",
    desktopInteract: false,
    elevateUser: false,
    environment: [],
    environmentVariablesFieldsRestriction: "No Restriction",
    events: [],
    exitCodeOutput: null,
    exitCodeProcessing: "Success Exitcode Range",
    exitCodeProcessingFieldsRestriction: "No Restriction",
    exitCodeText: null,
    exitCodes: "0",
    exportReleaseLevel: EXPORT_RELEASE_LEVEL,
    extension: EXTENSION_NAME,
    fields: FIELDS.map((spec, i) => toTemplateField(spec, i)),
    iconDateCreated: ICON_DATE,
    iconFilename: ICON_FILENAME,
    iconFilesize: icon.size,
    logLevel: "Info",
    minReleaseLevel: MIN_RELEASE_LEVEL,
    name: TEMPLATE_NAME,
    outputConditionOperator: "=",
    outputConditionStrategy: "Match Any",
    outputConditionValue: null,
    outputContentType: null,
    outputFailureOnly: false,
    outputPathExpression: null,
    outputReturnFile: null,
    outputReturnNline: "100",
    outputReturnSline: "1",
    outputReturnText: null,
    // Standard output and standard error both kept with the task instance.
    outputReturnType: "OUTERR",
    outputType: "STDOUT",
    retainSysIds: true,
    runtimeDir: null,
    script: null,
    scriptTypeWindows: null,
    scriptUnix: null,
    scriptWindows: null,
    sendVariables: "None",
    sysId: stableSysId("template"),
    templateType: "Extension",
    useCommonScript: false,
    variablePrefix: "ue_aws_sfn",
    waitForOutput: false,
  };
}

function valueSchema(spec: FieldSpec): Record<string, Json> {
  switch (spec.type) {
    case "Integer": {
      const s: Record<string, Json> = { type: "integer" };
      if (spec.intMin !== undefined) s["minimum"] = spec.intMin;
      if (spec.intMax !== undefined) s["maximum"] = spec.intMax;
      return s;
    }
    case "Boolean":
      return { type: "boolean" };
    case "Choice":
      return {
        type: "array",
        minItems: 1,
        maxItems: 1,
        // A Dynamic Choice's values are listed live; the program checks what they hold.
        items: spec.dynamicChoiceFields
          ? { type: "string", minLength: 1 }
          : { enum: [...(spec.choices ?? [])] },
      };
    case "Credential":
      return {
        type: "object",
        additionalProperties: false,
        required: ["user", "password"],
        properties: {
          user: { type: "string" },
          password: { type: "string" },
          token: { type: "string" },
        },
      };
    default: {
      const s: Record<string, Json> = { type: "string" };
      if (spec.fieldLength !== undefined) s["maxLength"] = spec.fieldLength;
      return s;
    }
  }
}

function conditionSchema(c: FieldCondition): Json {
  const controller = field(c.field);
  if (controller.type === "Boolean") return { const: c.values[0] === "true" };
  if (controller.type === "Choice") return { type: "array", contains: { enum: [...c.values] } };
  return { enum: [...c.values] };
}

/** All conditions that must hold for the field to be shown (its whole show-if chain). */
function visibilityChain(spec: FieldSpec): FieldCondition[] {
  const chain: FieldCondition[] = [];
  let current: FieldSpec | undefined = spec;
  while (current?.showIf) {
    chain.push(current.showIf);
    current = field(current.showIf.field);
  }
  return chain;
}

/** Quote a string for YAML (JSON strings are valid YAML double-quoted scalars). */
function yamlString(text: string): string {
  return JSON.stringify(text);
}

/** extension.yml, at the root of extension_archive.zip (the layout of a real archive). */
export function buildExtensionYml(): string {
  return [
    "extension:",
    `  name: ${EXTENSION_NAME}`,
    `  version: ${VERSION}`,
    `  api_level: ${API_LEVEL}`,
    `  requires_python: ${yamlString(">=3.7")}`,
    "owner:",
    `  name: ${yamlString("ue-aws-stepfunctions maintainers")}`,
    `  organization: ${yamlString("ue-aws-stepfunctions")}`,
    `comments: ${yamlString("Starts, supervises and reports AWS Step Functions executions; the Python bridge runs the bundled Node.js program (Node.js 20 or newer on the agent).")}`,
    "",
  ].join("\n");
}

/**
 * The EGG-INFO folder the vendor's build tool (setuptools' bdist_egg) puts into the
 * extension archive, as setuptools writes it for a package named by the extension whose
 * one top-level module is extension.py. Path inside the archive to content.
 */
export function buildEggInfo(): Record<string, string> {
  const eggInfo = `${EXTENSION_NAME.replaceAll("-", "_")}.egg-info`;
  const pkgInfo = [
    "Metadata-Version: 2.1",
    `Name: ${EXTENSION_NAME}`,
    `Version: ${VERSION}`,
    `Summary: ${pkg.description}`,
    "Author: ue-aws-stepfunctions maintainers",
    `License: ${pkg.license}`,
    "Requires-Python: >=3.7",
    "",
  ].join("\n");
  // setuptools lists the sources and its own egg-info files (zip-safe is bdist_egg's).
  const sources = [
    "__init__.py",
    "extension.py",
    ...["PKG-INFO", "SOURCES.txt", "dependency_links.txt", "top_level.txt"].map(
      (name) => `${eggInfo}/${name}`,
    ),
  ];
  return {
    "EGG-INFO/PKG-INFO": pkgInfo,
    "EGG-INFO/SOURCES.txt": `${sources.join("\n")}\n`,
    "EGG-INFO/dependency_links.txt": "\n",
    "EGG-INFO/top_level.txt": "extension\n",
    "EGG-INFO/zip-safe": "\n",
  };
}

export const BRIDGE_PATH = "src/bridge/extension.py";
export const BRIDGE_START =
  "# catalog:start (generated from src/fields/catalog.ts by npm run generate)";
export const BRIDGE_END = "# catalog:end";

/** The keys of the extension output's invocation.fields (SPEC 5.8), in catalog order. */
export function echoKeys(): string[] {
  return INPUT_FIELDS.flatMap((spec) =>
    spec.type === "Credential"
      ? [
          `${spec.name}_user`,
          `${spec.name}_password`,
          ...(spec.usesToken ? [`${spec.name}_token`] : []),
        ]
      : [spec.name],
  );
}

/**
 * The bridge's generated constants: names, labels and the shapes the agent hands over
 * (Script fields as files, with their limit; Credential fields as records), no field rules.
 */
export function buildBridgeConstants(): string {
  const tuple = (items: string[]) =>
    items.length === 0 ? "()" : `(\n${items.map((n) => `    ${n},`).join("\n")}\n)`;
  const names = (list: readonly string[]) => tuple(list.map((n) => JSON.stringify(n)));
  const q = JSON.stringify;
  const scripts = INPUT_FIELDS.filter((f) => f.type === "Script").map((f) => {
    if (f.maxBytes === undefined) throw new Error(`Script field ${f.name} has no maxBytes`);
    return `(${q(f.name)}, ${q(f.label)}, ${f.maxBytes})`;
  });
  const credentials = INPUT_FIELDS.filter((f) => f.type === "Credential").map(
    (f) => `(${q(f.name)}, ${q(f.label)})`,
  );
  return [
    BRIDGE_START,
    `EXTENSION_NAME = ${q(EXTENSION_NAME)}`,
    `VERSION = ${q(VERSION)}`,
    `BUNDLE_NAME = ${q(BUNDLE_NAME)}`,
    `OUTPUT_FIELDS = ${names(OUTPUT_FIELDS.map((f) => f.name))}`,
    "#: (name, label, limit in bytes of UTF-8): the agent hands each over as a file's path.",
    `SCRIPT_FIELDS = ${tuple(scripts)}`,
    "#: (name, label): the agent hands each over as a record and/or <name>.<part> keys.",
    `CREDENTIAL_FIELDS = ${tuple(credentials)}`,
    "#: The keys of the extension output's invocation.fields.",
    `DOCUMENT_FIELDS = ${names(echoKeys())}`,
    BRIDGE_END,
  ].join("\n");
}

/** Replace the generated block of extension.py (between the markers). */
export function spliceBridgeConstants(source: string): string {
  const start = source.indexOf(BRIDGE_START);
  const end = source.indexOf(BRIDGE_END);
  if (start < 0 || end < start) throw new Error(`${BRIDGE_PATH} has no catalog markers`);
  return source.slice(0, start) + buildBridgeConstants() + source.slice(end + BRIDGE_END.length);
}

/** JSON Schema of the field values the program accepts (defaults applied, empty values removed). */
export function buildFieldsSchema(): Record<string, Json> {
  const properties: Record<string, Json> = {};
  for (const spec of INPUT_FIELDS) {
    properties[spec.name] = { title: spec.label, description: spec.hint, ...valueSchema(spec) };
  }
  const conditional: Json[] = [];
  for (const spec of INPUT_FIELDS) {
    const chains: FieldCondition[][] = [];
    if (spec.requireIfVisible && spec.showIf) chains.push(visibilityChain(spec));
    if (spec.requireIf)
      chains.push([spec.requireIf, ...visibilityChain(field(spec.requireIf.field))]);
    for (const chain of chains) {
      const props: Record<string, Json> = {};
      for (const c of chain) props[c.field] = conditionSchema(c);
      conditional.push({
        if: { properties: props, required: chain.map((c) => c.field) },
        // biome-ignore lint/suspicious/noThenProperty: "then" is JSON Schema's keyword here.
        then: { required: [spec.name] },
      });
    }
  }
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://ue-aws-stepfunctions.local/schemas/fields.schema.json",
    title: "ue-aws-stepfunctions field values",
    description:
      "Field values in their runtime shapes, after empty values are removed and template defaults applied.",
    type: "object",
    additionalProperties: false,
    required: INPUT_FIELDS.filter((f) => f.required).map((f) => f.name),
    properties,
    allOf: conditional,
  };
}

const ISO_DATE = "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$";

/** JSON Schema of the extension output document (SPEC 5.8). */
export function buildOutputSchema(): Record<string, Json> {
  const fieldProps: Record<string, Json> = {};
  // In the order echoKeys() lists them.
  for (const spec of INPUT_FIELDS) {
    if (spec.type === "Credential") {
      fieldProps[`${spec.name}_user`] = { enum: ["****", null] };
      fieldProps[`${spec.name}_password`] = { enum: ["****", null] };
      if (spec.usesToken) fieldProps[`${spec.name}_token`] = { enum: ["****", null] };
    } else if (spec.secret) {
      fieldProps[spec.name] = { enum: ["****", null] };
    } else {
      // The echo shows what was received, valid or not, so only the basic type is fixed.
      const basic =
        spec.type === "Integer" ? "integer" : spec.type === "Boolean" ? "boolean" : "string";
      fieldProps[spec.name] = { type: [basic, "null"] };
    }
  }
  const nullableString = { type: ["string", "null"] };
  const nullableDate = { anyOf: [{ type: "string", pattern: ISO_DATE }, { type: "null" }] };
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://ue-aws-stepfunctions.local/schemas/extension-output.schema.json",
    title: "ue-aws-stepfunctions extension output",
    type: "object",
    additionalProperties: false,
    required: ["exit_code", "status_description", "changed", "invocation", "result"],
    properties: {
      exit_code: { type: "integer", minimum: 0, maximum: 255 },
      status_description: { type: "string", pattern: "^[A-Z][A-Z_]*: " },
      changed: { type: "boolean" },
      invocation: {
        type: "object",
        additionalProperties: false,
        required: ["extension", "version", "fields"],
        properties: {
          extension: { const: EXTENSION_NAME },
          version: { type: "string" },
          fields: {
            type: "object",
            additionalProperties: false,
            required: Object.keys(fieldProps),
            properties: fieldProps,
          },
        },
      },
      result: {
        anyOf: [
          { type: "null" },
          {
            type: "object",
            required: ["executionArn", "status"],
            properties: {
              executionArn: { type: "string", pattern: "^arn:" },
              stateMachineArn: nullableString,
              stateMachineVersionArn: nullableString,
              stateMachineAliasArn: nullableString,
              name: nullableString,
              status: {
                enum: ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"],
              },
              startDate: nullableDate,
              stopDate: nullableDate,
              input: nullableString,
              output: nullableString,
              outputParsed: {},
              outputDetails: { type: ["object", "null"] },
              error: nullableString,
              cause: nullableString,
              failedState: nullableString,
              redriveCount: { type: ["integer", "null"] },
              redriveStatus: nullableString,
              redriveStatusReason: nullableString,
              redriveDate: nullableDate,
              waitingForCallback: nullableString,
              consoleUrl: nullableString,
              traceHeader: nullableString,
              dataUnavailable: nullableString,
              mapRuns: {
                anyOf: [
                  {
                    type: "array",
                    items: {
                      type: "object",
                      required: ["mapRunArn", "label", "status", "itemCounts", "executionCounts"],
                      properties: {
                        mapRunArn: { type: "string" },
                        label: { type: "string" },
                        status: { type: "string" },
                        itemCounts: { type: "object" },
                        executionCounts: { type: "object" },
                      },
                    },
                  },
                  { type: "null" },
                ],
              },
              resultWriterDetails: {
                anyOf: [
                  {
                    type: "object",
                    required: ["bucket", "key"],
                    properties: {
                      bucket: { type: "string" },
                      key: { type: "string" },
                      mapRunArn: nullableString,
                    },
                  },
                  { type: "null" },
                ],
              },
              billingDetails: {
                anyOf: [
                  {
                    type: "object",
                    properties: {
                      billedMemoryUsedInMB: { type: "integer" },
                      billedDurationInMilliseconds: { type: "integer" },
                    },
                  },
                  { type: "null" },
                ],
              },
            },
          },
          {
            description:
              "Send Task Success, Send Task Failure, Send Task Heartbeat: what was sent for the task token.",
            type: "object",
            additionalProperties: false,
            required: ["callback", "taskTokenFingerprint"],
            properties: {
              callback: { enum: ["SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"] },
              taskTokenFingerprint: { type: "string", pattern: "^[0-9a-f]{8}$" },
              output: nullableString,
              outputParsed: {},
              error: nullableString,
              cause: nullableString,
            },
          },
        ],
      },
    },
  };
}

/** CommonJS source of the validators, compiled ahead of time (ajv standalone). */
export function buildValidatorsModule(): string {
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    strictRequired: false,
    code: { source: true, esm: false },
    schemas: [buildFieldsSchema(), buildOutputSchema()],
  });
  const source = standalone.default(ajv, {
    validateFields: "https://ue-aws-stepfunctions.local/schemas/fields.schema.json",
    validateExtensionOutput:
      "https://ue-aws-stepfunctions.local/schemas/extension-output.schema.json",
  });
  return `// Generated by build/generate.ts from src/fields/catalog.ts. Do not edit.\n${source}\n`;
}

export const VALIDATORS_TYPES = `// Generated by build/generate.ts. Do not edit.
import type { ErrorObject } from "ajv";

export interface CompiledValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

export declare const validateFields: CompiledValidator;
export declare const validateExtensionOutput: CompiledValidator;
`;

export const TABLE_START =
  "<!-- fields:start (generated from src/fields/catalog.ts by npm run generate) -->";
export const TABLE_END = "<!-- fields:end -->";

/** The field reference of the documentation, as a Markdown table. */
export function buildFieldTable(): string {
  const describe = (c: FieldCondition | undefined) =>
    c ? `${field(c.field).label} is ${c.values.join(" or ")}` : "always";
  const rows = FIELDS.map((f) => {
    const type =
      f.type === "Choice"
        ? f.dynamicChoiceFields
          ? "Dynamic Choice (listed live from AWS)"
          : `Choice: ${(f.choices ?? []).join(", ")}`
        : f.outputOnly
          ? "Text, output only"
          : f.type;
    const required = f.outputOnly
      ? ""
      : f.required
        ? "yes"
        : f.requireIfVisible && f.showIf
          ? "when shown"
          : "no";
    const cells = [
      `\`${f.name}\``,
      f.label,
      type,
      f.default ?? "",
      f.outputOnly ? "" : describe(f.showIf),
      required,
      f.hint,
    ];
    return `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
  });
  return [
    TABLE_START,
    "| name | label | type | default | shown when | required | meaning |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    TABLE_END,
  ].join("\n");
}

/** The page that holds the field table between the markers. */
export const FIELD_TABLE_PATH = "docs/fields-and-output.md";

/** Replace the generated section of that page (between the markers) with the table. */
export function spliceFieldTable(readme: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`${FIELD_TABLE_PATH} has no field table markers`);
  return readme.slice(0, start) + buildFieldTable() + readme.slice(end + TABLE_END.length);
}

/** Path (from the project root) to content, for every derived file. */
export function derivedFiles(icon: IconFacts): Record<string, string> {
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  return {
    "template/template.json": json(buildTemplate(icon)),
    "template/extension.yml": buildExtensionYml(),
    "schemas/fields.schema.json": json(buildFieldsSchema()),
    "schemas/extension-output.schema.json": json(buildOutputSchema()),
    "src/generated/validators.cjs": buildValidatorsModule(),
    "src/generated/validators.d.cts": VALIDATORS_TYPES,
  };
}
