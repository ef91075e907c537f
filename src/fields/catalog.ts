/**
 * The one source of truth for the task's fields. The template, the field-value schema,
 * the extension-output schema and the field table of docs/fields-and-output.md are generated from it.
 */
import { MAX_EXECUTION_NAME_FIELD_LENGTH } from "../execution-name.ts";

export type FieldType =
  | "Text"
  | "Large Text"
  | "Script"
  | "Integer"
  | "Boolean"
  | "Choice"
  | "Credential";

/** A visibility or requirement condition on another field (named here by field name). */
export interface FieldCondition {
  readonly field: string;
  readonly values: readonly string[];
}

export interface FieldSpec {
  readonly name: string;
  readonly label: string;
  readonly hint: string;
  readonly type: FieldType;
  /** The controller's slot, "<Type> Field N"; each slot used once. */
  readonly mapping: string;
  /** The form default, always a string as in real exports. */
  readonly default?: string;
  readonly required?: boolean;
  readonly showIf?: FieldCondition;
  readonly requireIfVisible?: boolean;
  readonly requireIf?: FieldCondition;
  readonly choices?: readonly string[];
  /**
   * A Dynamic Choice: its choices come from a command on the agent, which receives the
   * values of these fields (named here by field name; the template names them by slot).
   */
  readonly dynamicChoiceFields?: readonly string[];
  readonly outputOnly?: boolean;
  readonly intMin?: number;
  readonly intMax?: number;
  readonly fieldLength?: number;
  readonly preserveValueIfHidden?: boolean;
  /** Holds a secret: masked in every output, never accepted as a command-line flag. */
  readonly secret?: boolean;
  /** Script: the largest text the field takes, in bytes of UTF-8 (the service's own limit). */
  readonly maxBytes?: number;
  /** Credential: its token part is used (the AWS session token); other Credentials ignore it. */
  readonly usesToken?: boolean;
  /** Text type as the export names it (default: "JSON" for Script, "Plain" otherwise). */
  readonly textType?: string;
  /** Form layout; absent parts default to a row of its own across both columns. */
  readonly layout?: FieldLayout;
}

/** Where a field sits on the task form. */
export interface FieldLayout {
  readonly startRow?: boolean;
  readonly endRow?: boolean;
  readonly columnSpan?: 1 | 2;
  readonly noSpaceIfHidden?: boolean;
}

export const ACTIONS = {
  startAsync: "Start Asynchronous Execution",
  startSync: "Start Synchronous Express Execution",
  monitor: "Monitor Execution",
  stop: "Stop Execution",
  redrive: "Redrive Execution",
  sendTaskSuccess: "Send Task Success",
  sendTaskFailure: "Send Task Failure",
  sendTaskHeartbeat: "Send Task Heartbeat",
} as const;

/** The name of an action, as the Action field holds it. */
export type ActionName = (typeof ACTIONS)[keyof typeof ACTIONS];

export const PROXY_TYPES = {
  http: "HTTP",
  https: "HTTPS",
  httpsWithCredentials: "HTTPS With Credentials",
} as const;

export const MAXIMUM_WAIT_ACTIONS = {
  stop: "Stop Execution",
  leave: "Leave Execution Running",
} as const;

export const RERUN_BEHAVIOURS = {
  startNew: "Start New Execution",
  redrive: "Redrive Failed Execution",
} as const;

const START_ACTIONS: readonly string[] = [ACTIONS.startAsync, ACTIONS.startSync];
/** Actions whose execution the task can wait on with the waiting fields. */
const WAITABLE_ACTIONS: readonly string[] = [ACTIONS.startAsync, ACTIONS.redrive];
/** Actions that act on an existing execution named by its ARN. */
export const EXISTING_EXECUTION_ACTIONS: readonly string[] = [
  ACTIONS.monitor,
  ACTIONS.stop,
  ACTIONS.redrive,
];
/** Actions that answer a task token of a `.waitForTaskToken` task. */
export const CALLBACK_ACTIONS: readonly string[] = [
  ACTIONS.sendTaskSuccess,
  ACTIONS.sendTaskFailure,
  ACTIONS.sendTaskHeartbeat,
];
/** What every AWS call of the task uses: the pickers list with the task's own settings. */
const CONNECTION_FIELDS: readonly string[] = [
  "region",
  "endpoint_url",
  "credentials",
  "role_based_access",
  "role_arn",
  "role_external_id",
  "use_proxy",
  "proxy_type",
  "proxy",
  "proxy_ca_bundle_file",
  "proxy_credentials",
];
const MONITOR: FieldCondition = { field: "action", values: [ACTIONS.monitor] };
const ERROR_AND_CAUSE: FieldCondition = {
  field: "action",
  values: [ACTIONS.stop, ACTIONS.sendTaskFailure],
};
const WAITING: FieldCondition = { field: "wait_for_success_or_failure", values: ["true"] };
const PROXY_ON: FieldCondition = { field: "use_proxy", values: ["true"] };

const CATALOG = [
  {
    name: "action",
    label: "Action",
    hint: "What the task does.",
    type: "Choice",
    mapping: "Choice Field 1",
    default: ACTIONS.startAsync,
    required: true,
    choices: Object.values(ACTIONS),
  },
  {
    name: "region",
    label: "AWS Region",
    hint: "For example eu-west-1. Empty: the region of the state machine or execution ARN (for a task token, the agent's AWS_REGION or shared config).",
    type: "Text",
    mapping: "Text Field 1",
    fieldLength: 64,
  },
  {
    name: "endpoint_url",
    label: "Endpoint URL",
    hint: "Optional Step Functions endpoint (VPC, FIPS or local), for example https://states-fips.us-east-1.amazonaws.com.",
    type: "Text",
    mapping: "Text Field 2",
    fieldLength: 2048,
  },
  {
    name: "credentials",
    label: "AWS Credentials",
    hint: "User: access key id; password: secret access key. Empty: the standard credential chain of the agent host.",
    type: "Credential",
    mapping: "Credential Field 1",
    secret: true,
    usesToken: true,
  },
  {
    name: "role_based_access",
    label: "Role Based Access",
    hint: "Assume an IAM role with the credentials above before calling Step Functions.",
    type: "Boolean",
    mapping: "Boolean Field 1",
    default: "false",
  },
  {
    name: "role_arn",
    label: "Role ARN",
    hint: "arn:aws:iam::<account>:role/<name>",
    type: "Text",
    mapping: "Text Field 3",
    showIf: { field: "role_based_access", values: ["true"] },
    requireIfVisible: true,
    fieldLength: 2048,
  },
  {
    name: "role_external_id",
    label: "Role External ID",
    hint: "External ID the role's trust policy expects, if any.",
    type: "Text",
    mapping: "Text Field 4",
    showIf: { field: "role_based_access", values: ["true"] },
    fieldLength: 1224,
  },
  {
    name: "state_machine_arn",
    label: "State Machine ARN",
    hint: "arn:aws:states:<region>:<account>:stateMachine:<name>, optionally with :<version> or :<alias>.",
    type: "Text",
    mapping: "Text Field 5",
    showIf: { field: "action", values: START_ACTIONS },
    // Required with the State Machine picker: one of the two (checked by the program).
    fieldLength: 2048,
  },
  {
    name: "state_machine",
    label: "State Machine",
    hint: "Pick from the account's state machines (the region, credentials, role and proxy above). For a start action, use this or State Machine ARN; both set must agree.",
    type: "Choice",
    mapping: "Choice Field 5",
    showIf: { field: "action", values: [...START_ACTIONS, ...EXISTING_EXECUTION_ACTIONS] },
    dynamicChoiceFields: CONNECTION_FIELDS,
  },
  {
    name: "execution",
    label: "Execution",
    hint: "Pick from the State Machine's executions this action can use (newest first, at most 100). Use this or Target Execution ARN; both set must agree.",
    type: "Choice",
    mapping: "Choice Field 6",
    showIf: { field: "action", values: EXISTING_EXECUTION_ACTIONS },
    dynamicChoiceFields: ["action", ...CONNECTION_FIELDS, "state_machine"],
  },
  {
    name: "execution_name",
    label: "Execution Name",
    hint: "Empty: generated from the task. At most 61 characters: a tag of the task instance and -<run number> are appended.",
    type: "Text",
    mapping: "Text Field 6",
    showIf: { field: "action", values: START_ACTIONS },
    fieldLength: MAX_EXECUTION_NAME_FIELD_LENGTH,
  },
  {
    name: "input",
    label: "Input",
    hint: "JSON input of the execution, passed exactly as written. Empty means {}.",
    type: "Script",
    mapping: "Script Field 1",
    showIf: { field: "action", values: START_ACTIONS },
    // Step Functions' limit for an execution's input.
    maxBytes: 262_144,
  },
  {
    name: "trace_header",
    label: "X-Ray Trace Header",
    hint: "Optional AWS X-Ray trace header for the execution, for example Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1 (at most 256 ASCII characters).",
    type: "Text",
    mapping: "Text Field 15",
    showIf: { field: "action", values: START_ACTIONS },
    fieldLength: 256,
  },
  {
    name: "wait_for_success_or_failure",
    label: "Wait for Success or Failure",
    hint: "Supervise the execution until it ends and report its result.",
    type: "Boolean",
    mapping: "Boolean Field 2",
    default: "false",
    showIf: { field: "action", values: WAITABLE_ACTIONS },
  },
  {
    name: "polling_interval",
    label: "Polling Interval",
    hint: "Longest time between status checks, in seconds. Early checks come sooner.",
    type: "Integer",
    mapping: "Integer Field 1",
    default: "10",
    showIf: WAITING,
    requireIfVisible: true,
    intMin: 1,
    intMax: 86400,
  },
  {
    name: "maximum_wait",
    label: "Maximum Wait",
    hint: "Longest time to wait for the execution, in seconds. 0 means no limit.",
    type: "Integer",
    mapping: "Integer Field 2",
    default: "0",
    showIf: WAITING,
    intMin: 0,
    intMax: 31536000,
  },
  {
    name: "maximum_wait_action",
    label: "At Maximum Wait",
    hint: "What happens to the execution when the maximum wait is reached.",
    type: "Choice",
    mapping: "Choice Field 2",
    default: MAXIMUM_WAIT_ACTIONS.stop,
    showIf: WAITING,
    requireIfVisible: true,
    choices: Object.values(MAXIMUM_WAIT_ACTIONS),
  },
  {
    name: "stop_execution_on_cancel",
    label: "Stop Execution on Cancel",
    hint: "When the task is cancelled while waiting, stop the execution too.",
    type: "Boolean",
    mapping: "Boolean Field 3",
    default: "true",
    showIf: WAITING,
  },
  {
    name: "rerun_behaviour",
    label: "Rerun Behaviour",
    hint: "On a rerun of the task: start a new execution, or redrive the previous run's failed execution.",
    type: "Choice",
    mapping: "Choice Field 3",
    default: RERUN_BEHAVIOURS.startNew,
    // Express executions cannot be redriven.
    showIf: { field: "action", values: [ACTIONS.startAsync] },
    requireIfVisible: true,
    choices: Object.values(RERUN_BEHAVIOURS),
  },
  {
    name: "target_execution_arn",
    label: "Target Execution ARN",
    hint: "The execution to act on: arn:aws:states:<region>:<account>:execution:<state machine>:<name> (a Distributed Map's child execution: <state machine>/<label>).",
    type: "Text",
    mapping: "Text Field 12",
    showIf: { field: "action", values: EXISTING_EXECUTION_ACTIONS },
    // Required with the Execution picker: one of the two (checked by the program).
    fieldLength: 2048,
  },
  {
    name: "monitor_polling_interval",
    label: "Monitor Polling Interval",
    hint: "Longest time between status checks of the monitored execution, in seconds. Early checks come sooner.",
    type: "Integer",
    mapping: "Integer Field 3",
    default: "10",
    showIf: MONITOR,
    requireIfVisible: true,
    intMin: 1,
    intMax: 86400,
  },
  {
    name: "monitor_maximum_wait",
    label: "Monitor Maximum Wait",
    hint: "Longest time to monitor, in seconds; at the limit the execution is left running. 0 means no limit.",
    type: "Integer",
    mapping: "Integer Field 4",
    default: "0",
    showIf: MONITOR,
    intMin: 0,
    intMax: 31536000,
  },
  {
    name: "stop_monitored_on_cancel",
    label: "Stop Monitored Execution on Cancel",
    hint: "When the monitoring task is cancelled, stop the execution too. Off: it keeps running.",
    type: "Boolean",
    mapping: "Boolean Field 5",
    default: "false",
    showIf: MONITOR,
  },
  {
    name: "error",
    label: "Error",
    hint: "Error name given to the execution or the waiting task (at most 256 characters). Empty: one naming this product.",
    type: "Text",
    mapping: "Text Field 13",
    showIf: ERROR_AND_CAUSE,
    fieldLength: 256,
  },
  {
    name: "cause",
    label: "Cause",
    hint: "Longer explanation (at most 32768 characters). Empty: one naming this task.",
    type: "Large Text",
    mapping: "Large Text Field 1",
    showIf: ERROR_AND_CAUSE,
    fieldLength: 32768,
  },
  {
    name: "task_token",
    label: "Task Token",
    hint: "The token a .waitForTaskToken task handed out ($$.Task.Token). Treated as a secret: logs show a fingerprint only.",
    type: "Text",
    mapping: "Text Field 14",
    showIf: { field: "action", values: CALLBACK_ACTIONS },
    requireIfVisible: true,
    // The service's own limit for task tokens.
    fieldLength: 2048,
    secret: true,
  },
  {
    name: "task_output",
    label: "Task Output",
    hint: "JSON output of the waiting task, passed exactly as written. Empty means {}.",
    type: "Script",
    mapping: "Script Field 2",
    showIf: { field: "action", values: [ACTIONS.sendTaskSuccess] },
    // Step Functions' limit for SendTaskSuccess output.
    maxBytes: 262_144,
  },
  {
    name: "use_proxy",
    label: "Use Proxy",
    hint: "Send every AWS request through a proxy.",
    type: "Boolean",
    mapping: "Boolean Field 4",
    default: "false",
  },
  {
    name: "proxy_type",
    label: "Proxy Type",
    hint: "HTTP: plain connection to the proxy. HTTPS: TLS to the proxy. HTTPS With Credentials: TLS and Basic authentication.",
    type: "Choice",
    mapping: "Choice Field 4",
    default: PROXY_TYPES.http,
    showIf: PROXY_ON,
    requireIfVisible: true,
    choices: Object.values(PROXY_TYPES),
  },
  {
    name: "proxy",
    label: "Proxy",
    hint: "One URL for all requests, or an http and an https URL separated by a comma. No credentials in the URL.",
    type: "Text",
    mapping: "Text Field 7",
    showIf: PROXY_ON,
    requireIfVisible: true,
    fieldLength: 2048,
  },
  {
    name: "proxy_ca_bundle_file",
    label: "Proxy CA Bundle File",
    hint: "PEM file of CA certificates trusted for the proxy, in addition to the system roots.",
    type: "Text",
    mapping: "Text Field 8",
    showIf: { field: "proxy_type", values: [PROXY_TYPES.https, PROXY_TYPES.httpsWithCredentials] },
    fieldLength: 4096,
  },
  {
    name: "proxy_credentials",
    label: "Proxy Credentials",
    hint: "User name and password for the proxy's Basic authentication.",
    type: "Credential",
    mapping: "Credential Field 2",
    showIf: { field: "proxy_type", values: [PROXY_TYPES.httpsWithCredentials] },
    requireIfVisible: true,
    secret: true,
  },
  {
    name: "execution_arn",
    label: "Execution ARN",
    hint: "Set by the task as soon as the execution exists.",
    type: "Text",
    mapping: "Text Field 9",
    outputOnly: true,
  },
  {
    name: "execution_status",
    label: "Execution Status",
    hint: "Set by the task on every status change.",
    type: "Text",
    mapping: "Text Field 10",
    outputOnly: true,
  },
  {
    name: "generated_execution_name",
    label: "Generated Execution Name",
    hint: "The name of the execution the task works on. A start sets it before AWS answers; Execution ARN, set from the answer, confirms the execution exists.",
    type: "Text",
    mapping: "Text Field 11",
    outputOnly: true,
  },
  {
    name: "map_run_progress",
    label: "Map Run Progress",
    hint: "Set by the task now and then while a Distributed Map runs: items and child executions succeeded, failed, pending.",
    type: "Text",
    mapping: "Text Field 16",
    outputOnly: true,
  },
] as const satisfies readonly FieldSpec[];

export const FIELDS: readonly FieldSpec[] = CATALOG;

export const INPUT_FIELDS: readonly FieldSpec[] = FIELDS.filter((f) => !f.outputOnly);
export const OUTPUT_FIELDS: readonly FieldSpec[] = FIELDS.filter((f) => f.outputOnly);

/** The runtime shape of a value of each field type (SPEC 3.2). */
export type RuntimeValue<T extends FieldType> = T extends "Integer"
  ? number
  : T extends "Boolean"
    ? boolean
    : T extends "Choice"
      ? readonly string[]
      : T extends "Credential"
        ? { readonly user: string; readonly password: string; readonly token?: string }
        : string;

type InputFieldSpec = Exclude<(typeof CATALOG)[number], { readonly outputOnly: true }>;

/** The name of an input field. */
export type InputFieldName = InputFieldSpec["name"];

/** Input field values, each typed from its field's catalog entry. */
export type TypedFieldValues = {
  readonly [F in InputFieldSpec as F["name"]]?: RuntimeValue<F["type"]>;
};

/** The value of a choice field when it is one of the given choices, else the fallback. */
export function choiceOf<T extends string>(
  choices: Readonly<Record<string, T>>,
  value: readonly string[] | undefined,
  fallback: T,
): T {
  const picked = value?.[0];
  return Object.values(choices).find((c) => c === picked) ?? fallback;
}

/** Look a field up by name; throws on a typo in our own code. */
export function fieldByName(name: string): FieldSpec {
  const field = FIELDS.find((f) => f.name === name);
  if (!field) throw new Error(`unknown field ${name}`);
  return field;
}
