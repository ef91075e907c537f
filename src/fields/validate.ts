/**
 * Validation before any network call (SPEC 5.1): the form's rules, the compiled field
 * schema, then the formats. Every problem is collected and reported by field label.
 */
import type { ErrorObject } from "ajv";
import templateJson from "../../template/template.json" with { type: "json" };
import { type FieldProblem, validationErrorFrom } from "../errors.ts";
import { type FileRead, type ProxyConfig, parseProxyConfig } from "../proxy/config.ts";
import { validateFields } from "../generated/validators.cjs";
import {
  ACTIONS,
  CALLBACK_ACTIONS,
  choiceOf,
  EXISTING_EXECUTION_ACTIONS,
  type FieldSpec,
  INPUT_FIELDS,
  MAXIMUM_WAIT_ACTIONS,
  RERUN_BEHAVIOURS,
  type TypedFieldValues,
} from "./catalog.ts";
import { checkExecutionName, EXECUTION_NAME_ROOM } from "../execution-name.ts";
import type { FieldValues, Template } from "./template-types.ts";
import { arnOfChoice } from "./picked.ts";
import { jsonSyntaxError } from "./text-checks.ts";
import { evaluateForm } from "./visibility.ts";

const TEMPLATE = templateJson as Template;
const START_ACTIONS: readonly string[] = [ACTIONS.startAsync, ACTIONS.startSync];
const BY_NAME = new Map(INPUT_FIELDS.map((f) => [f.name, f]));
export const MAX_INPUT_BYTES = BY_NAME.get("input")?.maxBytes ?? 262_144;

type Values<T> = T[keyof T];

/** The validated, typed task configuration. */
export interface TaskConfig {
  readonly action: Values<typeof ACTIONS>;
  readonly region?: string;
  readonly endpointUrl?: string;
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  readonly role?: { readonly arn: string; readonly externalId?: string };
  /**
   * Set for the start actions (State Machine ARN, else the State Machine picked); for the
   * actions on an existing execution, the State Machine picked, if any.
   */
  readonly stateMachineArn?: string;
  readonly stateMachine?: ParsedStateMachineArn;
  /** Set for the actions on an existing execution (Target Execution ARN, else the Execution picked). */
  readonly targetExecutionArn?: string;
  readonly targetExecution?: ParsedExecutionArn;
  /** Stop Execution and Send Task Failure: as entered (defaults are applied by the action). */
  readonly error?: string;
  readonly cause?: string;
  /** Send Task *: the token (registered as a secret when it was read). */
  readonly taskToken?: string;
  /** Send Task Success: the output exactly as written; "{}" when empty. */
  readonly taskOutput: string;
  readonly executionName?: string;
  /** The start actions: the X-Ray trace header, exactly as written. */
  readonly traceHeader?: string;
  /** The input exactly as written; "{}" when empty. */
  readonly input: string;
  readonly wait: boolean;
  readonly pollingIntervalSeconds: number;
  readonly maximumWaitSeconds: number;
  readonly maximumWaitAction: Values<typeof MAXIMUM_WAIT_ACTIONS>;
  readonly stopExecutionOnCancel: boolean;
  readonly rerunBehaviour: Values<typeof RERUN_BEHAVIOURS>;
  readonly proxy?: ProxyConfig;
  /** The values as the form keeps them, for the output document's echo. */
  readonly fields: FieldValues;
}

export interface ParsedExecutionArn {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  /** The state machine's name; for a child execution of a Distributed Map, its parent's. */
  readonly stateMachineName: string;
  /**
   * Set for a child execution that a Distributed Map state's Map Run started: the state's
   * label (`...:execution:<state machine>/<label>:<name>`).
   */
  readonly mapLabel?: string;
  /** An Express child execution of a Distributed Map (`...:express:<state machine>/<label>:...`). */
  readonly express: boolean;
  readonly name: string;
}

export interface ParsedStateMachineArn {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly name: string;
  readonly qualifier?: string;
}

const PARTITION = "aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc";
// Two letters (eu-west-1, us-gov-west-1) or up to four (eusc-de-east-1, AWS European
// Sovereign Cloud), as the SDK's partition table has them.
const REGION = "[a-z]{2,4}(?:-[a-z]+)+-\\d{1,2}";
const NAME = '[^\\s<>{}\\[\\]?*"#%\\\\^|~`$&,;:/\\u0000-\\u001f\\u007f-\\u009f]{1,80}';
/**
 * The label of a Distributed Map state, as it follows "/" in the ARNs of its Map Runs and of
 * their child executions. AWS documents a Label as at most 40 characters without whitespace,
 * controls or ? * < > { } [ ] : ; , \ | ^ ~ $ # % & ` " ("/" is not among them), and
 * generates one when the state sets none: taken here as any 1 to 80 characters but a colon,
 * whitespace and controls, so that no label AWS could use is refused.
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
 */
const MAP_LABEL = "[^\\s:\\u0000-\\u001f\\u007f-\\u009f]{1,80}";
const STATE_MACHINE_ARN = new RegExp(
  `^arn:(${PARTITION}):states:(${REGION}):(\\d{12}):stateMachine:(${NAME})(?::(${NAME}))?$`,
);
/** A qualified state machine ARN that names a Distributed Map state: `stateMachine:<name>/<label>`. */
const DISTRIBUTED_MAP_ARN = new RegExp(
  `^arn:(${PARTITION}):states:(${REGION}):(\\d{12}):stateMachine:(${NAME})/(${MAP_LABEL})$`,
);
/**
 * A Standard execution, or a child execution of a Distributed Map: its Map Run's state
 * machine is `<state machine>/<label>` (AWS's IAM example for redriving Map Runs grants
 * `execution:<state machine>/<label>:*`).
 * https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html
 */
const EXECUTION_ARN = new RegExp(
  `^arn:(${PARTITION}):states:(${REGION}):(\\d{12}):execution:(${NAME})(?:/(${MAP_LABEL}))?:(${NAME})$`,
);
/**
 * An Express child execution of a Distributed Map: `express:<state machine>/<label>:<name>`,
 * taken with or without the id that follows the name in other Express execution ARNs.
 */
const EXPRESS_CHILD_ARN = new RegExp(
  `^arn:(${PARTITION}):states:(${REGION}):(\\d{12}):express:(${NAME})/(${MAP_LABEL}):(${NAME})(?::[^\\s:]{1,80})?$`,
);
const EXPRESS_EXECUTION_ARN = new RegExp(
  `^arn:(${PARTITION}):states:(${REGION}):(\\d{12}):express:`,
);
const ROLE_ARN = new RegExp(`^arn:(${PARTITION}):iam::\\d{12}:role/[\\w+=,.@/-]{1,512}$`);
const INSTANCE_PROFILE_ARN = new RegExp(`^arn:(${PARTITION}):iam::\\d{12}:instance-profile/`);
const REGION_ONLY = new RegExp(`^${REGION}$`);

/**
 * Check an X-Ray trace header as StartExecution's traceHeader takes it (0 to 256
 * characters, pattern \p{ASCII}*); the problem, or null.
 */
export function checkTraceHeader(value: string): string | null {
  if (value.length > 256) return `must be at most 256 characters, got ${value.length}`;
  const i = [...value].findIndex((c) => c.charCodeAt(0) > 0x7f);
  if (i >= 0) {
    return `must be ASCII characters only (AWS X-Ray trace header, such as Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1); character ${i + 1} is not`;
  }
  return null;
}

/** Check a region code (the field or any other source of the region); the problem, or null. */
export function checkRegion(value: string): string | null {
  return REGION_ONLY.test(value)
    ? null
    : `must be a region code such as eu-west-1, got ${JSON.stringify(value)}`;
}

/** Parse a state machine ARN, or null when it is not one. */
export function parseStateMachineArn(arn: string): ParsedStateMachineArn | null {
  const m = STATE_MACHINE_ARN.exec(arn);
  if (!m) return null;
  const [, partition, region, accountId, name, qualifier] = m as unknown as string[];
  const base = {
    partition: partition as string,
    region: region as string,
    accountId: accountId as string,
    name: name as string,
  };
  return qualifier ? { ...base, qualifier } : base;
}

/**
 * Parse the ARN of an execution DescribeExecution can read: a Standard execution (a child
 * execution of a Distributed Map among them) or an Express child execution of a Distributed
 * Map; null for anything else, an Express execution started on its own included.
 */
export function parseExecutionArn(arn: string): ParsedExecutionArn | null {
  const standard = EXECUTION_ARN.exec(arn);
  const m = standard ?? EXPRESS_CHILD_ARN.exec(arn);
  if (!m) return null;
  const [, partition, region, accountId, stateMachineName, mapLabel, name] =
    m as unknown as string[];
  return {
    partition: partition as string,
    region: region as string,
    accountId: accountId as string,
    stateMachineName: stateMachineName as string,
    ...(mapLabel ? { mapLabel } : {}),
    express: !standard,
    name: name as string,
  };
}

/**
 * An Express execution's ARN. AWS keeps no record of those DescribeExecution could read,
 * but for the child executions a Distributed Map's Map Run started (DescribeExecution
 * serves those; StopExecution, GetExecutionHistory and RedriveExecution do not).
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html
 */
export function isExpressExecutionArn(arn: string): boolean {
  return EXPRESS_EXECUTION_ARN.test(arn);
}

/**
 * A qualified state machine ARN naming a Distributed Map state
 * (`stateMachine:<name>/<label>`): its state machine's ARN and the label, or null.
 */
export function parseDistributedMapArn(
  arn: string,
): { stateMachineArn: string; label: string } | null {
  const m = DISTRIBUTED_MAP_ARN.exec(arn);
  if (!m) return null;
  const [, partition, region, accountId, name, label] = m as unknown as string[];
  return {
    stateMachineArn: `arn:${partition}:states:${region}:${accountId}:stateMachine:${name}`,
    label: label as string,
  };
}

/** Check a task's JSON output: parses and fits the limit (the same rules as the input). */
export const checkTaskOutput = (output: string): string | null => checkInput(output);

function labelOf(name: string): string {
  return BY_NAME.get(name)?.label ?? name;
}

function describeAjvError(error: ErrorObject): FieldProblem | null {
  const name =
    error.keyword === "required"
      ? (error.params as { missingProperty: string }).missingProperty
      : error.keyword === "additionalProperties"
        ? (error.params as { additionalProperty: string }).additionalProperty
        : (error.instancePath.split("/")[1] ?? "");
  const spec: FieldSpec | undefined = BY_NAME.get(name);
  const p = error.params as Record<string, unknown>;
  let message: string;
  switch (error.keyword) {
    case "required":
      message = spec?.showIf
        ? `is required when ${labelOf(spec.showIf.field)} is ${spec.showIf.values.join(" or ")}`
        : "is required";
      break;
    case "additionalProperties":
      message = "is not a field of this task";
      break;
    case "minimum":
      message = `must be at least ${p["limit"]}`;
      break;
    case "maximum":
      message = `must be at most ${p["limit"]}`;
      break;
    case "maxLength":
      message = `must be at most ${p["limit"]} characters${name === "execution_name" ? `, ${EXECUTION_NAME_ROOM}` : ""}`;
      break;
    case "enum":
      message = `must be one of: ${(spec?.choices ?? []).join(", ")}`;
      break;
    case "maxItems":
      message = "takes a single choice";
      break;
    case "type":
      message = `must be of type ${p["type"]}`;
      break;
    case "if":
      return null;
    default:
      message = error.message ?? "is invalid";
  }
  return { field: name, label: labelOf(name), message };
}

/** A picker field's ARN (the last word of its choice), or undefined when nothing is picked. */
function pickedArn(value: readonly string[] | undefined): string | undefined {
  const choice = value?.[0];
  return choice !== undefined && choice.trim() !== "" ? arnOfChoice(choice) : undefined;
}

/** A state machine's ARN without its version or alias. */
function unqualified(m: ParsedStateMachineArn): string {
  return `arn:${m.partition}:states:${m.region}:${m.accountId}:stateMachine:${m.name}`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.length > 0 ? value : undefined;
}

function hasShapeOf(field: FieldSpec, value: unknown): boolean {
  switch (field.type) {
    case "Integer":
      return typeof value === "number";
    case "Boolean":
      return typeof value === "boolean";
    case "Choice":
      return Array.isArray(value) && value.every((v) => typeof v === "string");
    case "Credential":
      return (
        typeof value === "object" &&
        value !== null &&
        typeof (value as { user?: unknown }).user === "string" &&
        typeof (value as { password?: unknown }).password === "string" &&
        ["string", "undefined"].includes(typeof (value as { token?: unknown }).token)
      );
    default:
      return typeof value === "string";
  }
}

/** The values typed by their catalog entries; a value of the wrong shape is left out. */
export function typedValues(values: FieldValues): TypedFieldValues {
  const typed: Record<string, unknown> = {};
  for (const field of INPUT_FIELDS) {
    const value = values[field.name];
    if (value !== undefined && hasShapeOf(field, value)) typed[field.name] = value;
  }
  // Each kept value has been checked against its field's type just above.
  return typed as TypedFieldValues;
}

/** The values as the form would hold them (defaults applied), with everything entered kept. */
export function withDefaults(entered: FieldValues): FieldValues {
  return { ...evaluateForm(TEMPLATE.fields, entered).values, ...entered };
}

/** Check the JSON input: parses, and fits the service's limit. Returns problems. */
export function checkInput(input: string): string | null {
  const bytes = Buffer.byteLength(input, "utf8");
  if (bytes > MAX_INPUT_BYTES) {
    return `is ${bytes} bytes; Step Functions accepts at most ${MAX_INPUT_BYTES} bytes (UTF-8)`;
  }
  try {
    JSON.parse(input);
  } catch (error) {
    return `is not valid JSON: ${jsonSyntaxError(input, error)}`;
  }
  return null;
}

/** Check an endpoint URL (the field or AWS_ENDPOINT_URL*); the problem, or null. */
export function checkUrl(value: string): string | null {
  // Before parsing: a password holding "/" makes the URL parser read it as the host.
  if (value.includes("@")) return "must not contain credentials (user:password@)";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be a URL such as https://states.eu-west-1.amazonaws.com";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return "must start with https:// or http://";
  if (url.username || url.password) return "must not contain credentials";
  return null;
}

/**
 * The waiting settings of the action: Monitor always waits, with its own fields (it did not
 * start the execution, so it leaves it running unless asked otherwise); the others wait
 * when Wait for Success or Failure is on.
 */
function waitingSettings(
  action: string,
  typed: TypedFieldValues,
): Pick<
  TaskConfig,
  | "wait"
  | "pollingIntervalSeconds"
  | "maximumWaitSeconds"
  | "maximumWaitAction"
  | "stopExecutionOnCancel"
> {
  if (action === ACTIONS.monitor) {
    return {
      wait: true,
      pollingIntervalSeconds: typed.monitor_polling_interval ?? 10,
      maximumWaitSeconds: typed.monitor_maximum_wait ?? 0,
      maximumWaitAction: MAXIMUM_WAIT_ACTIONS.leave,
      stopExecutionOnCancel: typed.stop_monitored_on_cancel === true,
    };
  }
  return {
    wait: typed.wait_for_success_or_failure === true,
    pollingIntervalSeconds: typed.polling_interval ?? 10,
    maximumWaitSeconds: typed.maximum_wait ?? 0,
    maximumWaitAction: choiceOf(
      MAXIMUM_WAIT_ACTIONS,
      typed.maximum_wait_action,
      MAXIMUM_WAIT_ACTIONS.stop,
    ),
    stopExecutionOnCancel: typed.stop_execution_on_cancel !== false,
  };
}

export interface ValidationContext {
  /**
   * Listing the choices of a picker (--list): the state machine and the execution the
   * task would act on need not be set yet; what is set must still be sound.
   */
  readonly listing?: boolean;
  /** Whether the environment or the shared config names a region (a task token names none). */
  readonly environmentRegion?: boolean;
  /** Files the fields name (the Proxy CA Bundle File), read before validation. */
  readonly files?: ReadonlyMap<string, FileRead>;
}

/** The files the fields name, so that validation itself reads nothing. */
export function filesNamedBy(values: FieldValues): string[] {
  const caFile = typedValues(values).proxy_ca_bundle_file?.trim();
  return caFile ? [caFile] : [];
}

/**
 * Validate raw values (already in runtime shapes). Pure: no environment, no files. Returns
 * the configuration or throws a DataValidationError listing every problem.
 */
export function validate(
  entered: FieldValues,
  earlier: readonly FieldProblem[],
  context: ValidationContext = {},
): TaskConfig {
  const problems: FieldProblem[] = [...earlier];
  const form = evaluateForm(TEMPLATE.fields, entered);
  const values = form.values;

  if (!validateFields(values)) {
    const seen = new Set<string>();
    // A field already reported (an empty flag value, a file that cannot be read) is not
    // reported again as missing.
    const reported = new Set(earlier.map((p) => p.field));
    for (const error of validateFields.errors ?? []) {
      const p = describeAjvError(error);
      const key = p ? `${p.field}:${p.message}` : "";
      if (p && !seen.has(key) && !reported.has(p.field)) {
        seen.add(key);
        problems.push(p);
      }
    }
  }
  const typed = typedValues(values);
  const bad = new Set(problems.map((p) => p.field));
  const add = (name: string, message: string) => {
    problems.push({ field: name, label: labelOf(name), message });
    bad.add(name);
  };

  /** Parse an ARN a field holds; a problem on the field when it does not parse. */
  const parsedOrProblem = <T>(
    name: string,
    arn: string | undefined,
    parse: (arn: string) => T | null,
    message: (arn: string) => string,
  ): { arn: string; parsed: T } | null => {
    if (!arn || bad.has(name)) return null;
    const parsed = parse(arn);
    if (!parsed) add(name, message(arn));
    return parsed ? { arn, parsed } : null;
  };

  const action = choiceOf(ACTIONS, typed.action, ACTIONS.startAsync);
  const stateMachineShape =
    "arn:aws:states:<region>:<12-digit account>:stateMachine:<name>[:<version or alias>]";
  // AWS documents that StartExecution refuses such an ARN (ValidationException).
  // https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
  const distributedMap = (arn: string): string | null => {
    const map = parseDistributedMapArn(arn);
    return map
      ? `names the Distributed Map state labelled "${map.label}" of a state machine, not a state machine (StartExecution refuses it: a Map state's child executions are started by its Map Run); give the state machine's ARN ${map.stateMachineArn}`
      : null;
  };
  const typedMachine = parsedOrProblem(
    "state_machine_arn",
    nonEmpty(typed.state_machine_arn?.trim()),
    parseStateMachineArn,
    (arn) => distributedMap(arn) ?? `must look like ${stateMachineShape}`,
  );
  const pickedMachine = parsedOrProblem(
    "state_machine",
    pickedArn(typed.state_machine),
    parseStateMachineArn,
    (arn) =>
      distributedMap(arn) ??
      `must hold a state machine ARN as the picker lists it (${stateMachineShape})`,
  );
  // The typed ARN wins when both name one state machine (it may add a version or alias).
  let stateMachineArn = typedMachine?.arn ?? pickedMachine?.arn;
  let stateMachine = typedMachine?.parsed ?? pickedMachine?.parsed ?? null;
  if (typedMachine && pickedMachine) {
    if (unqualified(typedMachine.parsed) !== unqualified(pickedMachine.parsed)) {
      add(
        "state_machine",
        `is ${pickedMachine.arn} but State Machine ARN is ${typedMachine.arn}; clear one of them or make them agree`,
      );
    }
  }
  const startAction = START_ACTIONS.includes(action);
  // An Action that is no choice, or a fields file that could not be used, leaves unknown
  // which fields the task needs: nothing more is reported as missing.
  const needsUnknown = bad.has("action") || bad.has("UE_FIELDS_FILE") || bad.has("--fields-file");
  const bothMachineFieldsBad = bad.has("state_machine_arn") || bad.has("state_machine");
  if (
    startAction &&
    !stateMachineArn &&
    !context.listing &&
    !bothMachineFieldsBad &&
    !needsUnknown
  ) {
    add(
      "state_machine_arn",
      `is required when Action is ${action}: type the ARN, or pick one in State Machine`,
    );
  }

  // An Express child execution of a Distributed Map can be described (Monitor), not stopped
  // nor redriven: StopExecution and RedriveExecution serve no Express execution, and its Map
  // Run reruns it when its parent is redriven.
  // https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html
  // https://docs.aws.amazon.com/step-functions/latest/apireference/API_RedriveExecution.html
  const executionFor = (arn: string): ParsedExecutionArn | null => {
    const parsed = parseExecutionArn(arn);
    return parsed && (!parsed.express || action === ACTIONS.monitor) ? parsed : null;
  };
  const executionMessage = (arn: string) => {
    const child = parseExecutionArn(arn);
    if (child?.express) {
      const of = `is an Express child execution of the Distributed Map state labelled "${child.mapLabel}"`;
      return action === ACTIONS.redrive
        ? `${of}; RedriveExecution does not serve Express executions: redrive its parent execution, whose Map Run then reruns its unsuccessful child executions`
        : `${of}; StopExecution does not serve Express executions (Monitor Execution can follow it)`;
    }
    return isExpressExecutionArn(arn)
      ? `is an Express execution; AWS keeps no record of those that ${action} could use (DescribeExecution serves Standard executions and the child executions of a Distributed Map, StopExecution and RedriveExecution Standard executions only); run Express workflows with Start Synchronous Express Execution to get their result`
      : "must look like arn:aws:states:<region>:<12-digit account>:execution:<state machine>[/<Distributed Map label>]:<execution name>";
  };
  const typedExecution = parsedOrProblem(
    "target_execution_arn",
    nonEmpty(typed.target_execution_arn?.trim()),
    executionFor,
    executionMessage,
  );
  const pickedExecution = parsedOrProblem(
    "execution",
    pickedArn(typed.execution),
    executionFor,
    executionMessage,
  );
  const targetExecutionArn = typedExecution?.arn ?? pickedExecution?.arn;
  const targetExecution = typedExecution?.parsed ?? pickedExecution?.parsed ?? null;
  if (typedExecution && pickedExecution && typedExecution.arn !== pickedExecution.arn) {
    add(
      "execution",
      `is ${pickedExecution.arn} but Target Execution ARN is ${typedExecution.arn}; clear one of them or make them agree`,
    );
  }
  const onExecution = EXISTING_EXECUTION_ACTIONS.includes(action);
  const bothExecutionFieldsBad = bad.has("target_execution_arn") || bad.has("execution");
  if (
    onExecution &&
    !targetExecutionArn &&
    !context.listing &&
    !bothExecutionFieldsBad &&
    !needsUnknown
  ) {
    add(
      "target_execution_arn",
      `is required when Action is ${action}: type the ARN, or pick one in Execution`,
    );
  }
  if (onExecution && targetExecution && pickedMachine && !typedMachine) {
    // A child execution of a Distributed Map belongs to the state machine of that Map state.
    const machineOfExecution = `arn:${targetExecution.partition}:states:${targetExecution.region}:${targetExecution.accountId}:stateMachine:${targetExecution.stateMachineName}`;
    if (machineOfExecution !== unqualified(pickedMachine.parsed)) {
      const belongs = targetExecution.mapLabel
        ? `is a child execution of a Distributed Map of ${machineOfExecution}`
        : `belongs to ${machineOfExecution}`;
      add(
        "state_machine",
        `is ${pickedMachine.arn} but the execution ${targetExecutionArn} ${belongs}; pick its state machine or clear State Machine`,
      );
    }
  }
  if (!startAction && !onExecution) {
    stateMachineArn = undefined;
    stateMachine = null;
  }

  const region = nonEmpty(typed.region?.trim());
  if (region && !bad.has("region")) {
    const arnRegion = stateMachine?.region ?? targetExecution?.region;
    const arnLabel = typedMachine
      ? "State Machine ARN"
      : pickedMachine
        ? "State Machine picked"
        : typedExecution
          ? "Target Execution ARN"
          : "Execution picked";
    const message = checkRegion(region);
    if (message) add("region", message);
    else if (arnRegion && arnRegion !== region) {
      add(
        "region",
        `is ${region} but the ${arnLabel} is in ${arnRegion}; leave the region empty or make them agree`,
      );
    }
  }

  if (
    !region &&
    context.environmentRegion === false &&
    CALLBACK_ACTIONS.includes(action) &&
    !bad.has("region")
  ) {
    add(
      "region",
      `is required for ${action}: a task token does not name its region (or set AWS_REGION or a profile's region on the agent)`,
    );
  }

  const taskToken = nonEmpty(typed.task_token);
  if (taskToken !== undefined && !bad.has("task_token")) {
    if (taskToken.trim() !== taskToken) add("task_token", "must not start or end with whitespace");
  }
  const rawTaskOutput = nonEmpty(typed.task_output);
  const taskOutput =
    rawTaskOutput !== undefined && rawTaskOutput.trim().length > 0 ? rawTaskOutput : "{}";
  if (!bad.has("task_output")) {
    const message = checkTaskOutput(taskOutput);
    if (message) add("task_output", message);
  }
  const error = nonEmpty(typed.error);
  const cause = nonEmpty(typed.cause);

  const endpointUrl = nonEmpty(typed.endpoint_url?.trim());
  if (endpointUrl && !bad.has("endpoint_url")) {
    const message = checkUrl(endpointUrl);
    if (message) add("endpoint_url", message);
  }

  const roleArn = nonEmpty(typed.role_arn?.trim());
  if (roleArn && !bad.has("role_arn")) {
    if (INSTANCE_PROFILE_ARN.test(roleArn)) {
      add(
        "role_arn",
        "is an instance-profile ARN; give the ARN of the role itself (arn:aws:iam::<account>:role/<name>)",
      );
    } else if (!ROLE_ARN.test(roleArn)) {
      add("role_arn", "must look like arn:aws:iam::<12-digit account>:role/<path/name>");
    } else {
      // A role is assumed in the partition of the calls it is for: STS of one partition
      // knows no role of another.
      const rolePartition = roleArn.split(":")[1];
      const target = stateMachine ?? targetExecution;
      if (target && rolePartition !== target.partition) {
        add(
          "role_arn",
          `is in partition ${rolePartition}, but the ${stateMachine ? "state machine" : "target execution"} is in ${target.partition}: a role can only be assumed in its own partition`,
        );
      }
    }
  }

  const externalId = nonEmpty(typed.role_external_id);
  if (externalId && !/^[\w+=,.@:/-]{2,1224}$/.test(externalId)) {
    add("role_external_id", "must be 2 to 1224 characters of letters, digits and +=,.@:/-");
  }

  const executionName = nonEmpty(typed.execution_name);
  if (executionName && !bad.has("execution_name")) {
    const message = checkExecutionName(executionName);
    if (message) add("execution_name", message);
  }

  const traceHeader = nonEmpty(typed.trace_header);
  if (traceHeader && !bad.has("trace_header")) {
    const message = checkTraceHeader(traceHeader);
    if (message) add("trace_header", message);
  }

  const rawInput = nonEmpty(typed.input);
  const input = rawInput !== undefined && rawInput.trim().length > 0 ? rawInput : "{}";
  if (!bad.has("input")) {
    const message = checkInput(input);
    if (message) add("input", message);
  }

  // The key id's shape is AWS's business (an emulator's may be "test"): AWS says whether it knows it.
  const credentials = typed.credentials;

  let proxy: ProxyConfig | undefined;
  if (typed.use_proxy === true) {
    const parsed = parseProxyConfig(
      {
        proxy_type: typed.proxy_type ? [...typed.proxy_type] : undefined,
        proxy: nonEmpty(typed.proxy),
        proxy_ca_bundle_file: nonEmpty(typed.proxy_ca_bundle_file),
        proxy_credentials: typed.proxy_credentials,
      },
      (path) => context.files?.get(path) ?? { error: "ENOENT" },
    );
    if (parsed.config) proxy = parsed.config;
    for (const p of parsed.problems ?? []) {
      // The schema already said "is required" for an empty required field.
      if (!problems.some((q) => q.field === p.field)) problems.push(p);
    }
  }
  if (problems.length > 0) throw validationErrorFrom(problems);

  const config: TaskConfig = {
    action,
    ...(region ? { region } : {}),
    ...(endpointUrl ? { endpointUrl } : {}),
    ...(credentials
      ? {
          credentials: {
            accessKeyId: credentials.user,
            secretAccessKey: credentials.password,
            ...(credentials.token ? { sessionToken: credentials.token } : {}),
          },
        }
      : {}),
    ...(typed.role_based_access === true && roleArn
      ? { role: externalId ? { arn: roleArn, externalId } : { arn: roleArn } }
      : {}),
    ...(stateMachineArn && stateMachine ? { stateMachineArn, stateMachine } : {}),
    ...(targetExecutionArn && targetExecution ? { targetExecutionArn, targetExecution } : {}),
    ...(error ? { error } : {}),
    ...(cause ? { cause } : {}),
    ...(taskToken ? { taskToken } : {}),
    taskOutput,
    ...(executionName ? { executionName } : {}),
    ...(traceHeader ? { traceHeader } : {}),
    input,
    ...waitingSettings(action, typed),
    rerunBehaviour: choiceOf(RERUN_BEHAVIOURS, typed.rerun_behaviour, RERUN_BEHAVIOURS.startNew),
    ...(proxy ? { proxy } : {}),
    fields: values,
  };
  return config;
}
