/**
 * What a real controller export carries. For an Extension template: every key at each level
 * (the template, each field, each choice, each command) and the JSON types its values take
 * there, apart from null. An empty list: the export shows only null for that key.
 *
 * For the extension.yml inside its archive: the keys, in order, with their indentation.
 *
 * Recorded once from a real export (Universal Controller 7.2.0.0) published in the public
 * aws-samples/aws-mainframe-modernization-stonebranch-integration repository
 * (assets/template.json, src/extension.yml), so that the checks stand without the export
 * beside the project. Facts only: its values belong to another product. Where a copy of the
 * export is at hand (../shared/reference/real-exports beside the project), the tests also
 * compare these facts with it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./paths.ts";

export type JsonType = "array" | "boolean" | "integer" | "number" | "object" | "string";

/** Key name -> the non-null JSON types a real export shows for it. */
export type KeyTypes = Readonly<Record<string, readonly JsonType[]>>;

export const EXPORT_KEYS: {
  readonly template: KeyTypes;
  readonly field: KeyTypes;
  readonly choice: KeyTypes;
  readonly command: KeyTypes;
} = {
  template: {
    agent: [],
    agentCluster: [],
    agentClusterVar: [],
    agentFieldsRestriction: ["string"],
    agentType: ["string"],
    agentVar: [],
    alwaysCancelOnFinish: ["boolean"],
    autoCleanup: ["boolean"],
    automaticOutputRetrievalFieldsRestriction: ["string"],
    broadcastCluster: [],
    broadcastClusterVar: [],
    commands: ["array"],
    createConsole: ["boolean"],
    credentialFieldsRestriction: ["string"],
    credentials: [],
    credentialsVar: [],
    description: ["string"],
    desktopInteract: ["boolean"],
    elevateUser: ["boolean"],
    environment: ["array"],
    environmentVariablesFieldsRestriction: ["string"],
    events: ["array"],
    exitCodeOutput: [],
    exitCodeProcessing: ["string"],
    exitCodeProcessingFieldsRestriction: ["string"],
    exitCodeText: [],
    exitCodes: ["string"],
    exportReleaseLevel: ["string"],
    extension: ["string"],
    fields: ["array"],
    iconDateCreated: ["string"],
    iconFilename: ["string"],
    iconFilesize: ["integer"],
    logLevel: ["string"],
    minReleaseLevel: ["string"],
    name: ["string"],
    outputConditionOperator: ["string"],
    outputConditionStrategy: ["string"],
    outputConditionValue: [],
    outputContentType: [],
    outputFailureOnly: ["boolean"],
    outputPathExpression: [],
    outputReturnFile: [],
    outputReturnNline: ["string"],
    outputReturnSline: ["string"],
    outputReturnText: [],
    outputReturnType: ["string"],
    outputType: ["string"],
    retainSysIds: ["boolean"],
    runtimeDir: [],
    script: [],
    scriptTypeWindows: [],
    scriptUnix: [],
    scriptWindows: [],
    sendVariables: ["string"],
    sysId: ["string"],
    templateType: ["string"],
    useCommonScript: ["boolean"],
    variablePrefix: ["string"],
    waitForOutput: ["boolean"],
  },
  field: {
    arrayNameTitle: [],
    arrayValueTitle: [],
    booleanNoValue: [],
    booleanValueType: ["string"],
    booleanYesValue: [],
    choiceAllowEmpty: ["boolean"],
    choiceAllowMultiple: ["boolean"],
    choiceDynamic: ["boolean"],
    choiceFields: ["array"],
    choiceSortOption: ["string"],
    choices: ["array"],
    defaultListView: ["boolean"],
    fieldLength: [],
    fieldMapping: ["string"],
    fieldRestriction: ["string"],
    fieldType: ["string"],
    fieldValue: ["boolean", "string"],
    formColumnSpan: ["integer"],
    formEndRow: ["boolean"],
    formStartRow: ["boolean"],
    hint: ["string"],
    intFieldMax: [],
    intFieldMin: [],
    label: ["string"],
    name: ["string"],
    noSpaceIfHidden: ["boolean"],
    preserveOutputOnRerun: ["boolean"],
    preserveValueIfHidden: ["boolean"],
    requireIfField: [],
    requireIfFieldValue: [],
    requireIfVisible: ["boolean"],
    required: ["boolean"],
    sequence: ["integer"],
    showIfField: ["string"],
    showIfFieldValue: ["string"],
    sysId: ["string"],
    textType: ["string"],
  },
  choice: {
    fieldValue: ["string"],
    fieldValueLabel: ["string"],
    sequence: ["integer"],
    sysId: ["string"],
    useFieldValueForLabel: ["boolean"],
  },
  command: {
    asynchronous: ["boolean"],
    executionOption: ["string"],
    fields: ["array"],
    label: ["string"],
    name: ["string"],
    statuses: ["array"],
    sysId: ["string"],
    timeout: [],
  },
};

/**
 * How a real export writes a Dynamic Choice field: recorded from a controller export at
 * release level 7.8.0.0 with three of them, published in the public b0sserr0r/Universal-Extension
 * repository (vCenter/src/templates/template.json), built with the vendor's own tooling.
 * The choice command receives the fields that choiceFields names, by their fieldMapping.
 */
export const DYNAMIC_CHOICE_FACTS = {
  /** Keys with the same value in every Dynamic Choice field of the export. */
  fixed: {
    fieldType: "Choice",
    choiceDynamic: true,
    choices: [],
    choiceAllowMultiple: false,
    choiceAllowEmpty: false,
    choiceSortOption: "Sequence",
    fieldValue: null,
  },
  /** Each entry of choiceFields is a slot of another field of the template. */
  choiceFieldEntry: /^(Text|Large Text|Script|Integer|Boolean|Choice|Credential) Field \d+$/,
} as const;

/** The keys of a real extension.yml, in order, indented as there. */
export const EXTENSION_YML_KEYS: readonly string[] = [
  "extension",
  "  name",
  "  version",
  "  api_level",
  "  requires_python",
  "owner",
  "  name",
  "  organization",
  "comments",
];

/** The keys of a YAML text of this shape (one key per line), in order, indented. */
export function yamlKeys(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((line) => /^\s*[a-z_]+:/.test(line))
    .map((line) => line.replace(/:.*$/, "").trimEnd());
}

/** Where copies of real exports may sit: beside the project, not inside it. */
export const REAL_EXPORTS = join(ROOT, "..", "shared", "reference", "real-exports");

/**
 * The path of a real export file when it is at hand, or the reason it is not: the caller
 * skips its comparison with that reason (t.skip), and the recorded facts above stand alone.
 */
export function realExport(file: string): { path: string } | { skip: string } {
  const path = join(REAL_EXPORTS, file);
  if (existsSync(path)) return { path };
  return {
    skip: `../shared/reference/real-exports not found: ${path} is absent, so the recorded facts are not compared with a real export`,
  };
}
