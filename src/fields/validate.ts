/**
 * Validation before any network call (SPEC 5.1): the form's rules, the compiled field
 * schema, then the formats. Every problem is collected and reported by field label.
 */
import { readFileSync } from "node:fs";
import type { ErrorObject } from "ajv";
import templateJson from "../../template/template.json" with { type: "json" };
import { timeoutOverrides } from "../aws/http-handler.ts";
import { type FieldProblem, validationErrorFrom } from "../errors.ts";
import { type ProxyConfig, parseProxyConfig } from "../proxy/config.ts";
import { validateFields } from "../generated/validators.cjs";
import {
  ACTIONS,
  type FieldSpec,
  INPUT_FIELDS,
  MAXIMUM_WAIT_ACTIONS,
  RERUN_BEHAVIOURS,
} from "./catalog.ts";
import { checkExecutionName } from "../execution-name.ts";
import type { CredentialValue, FieldValues, Template } from "./template-types.ts";
import { checkEndpointEnvironment, checkFailureLimit } from "./env-checks.ts";
import { jsonSyntaxError } from "./text-checks.ts";
import { evaluateForm } from "./visibility.ts";

const TEMPLATE = templateJson as Template;
const BY_NAME = new Map(INPUT_FIELDS.map((f) => [f.name, f]));
export const MAX_INPUT_BYTES = 262_144;

type Values<T> = T[keyof T];

/** The validated, typed task configuration. */
export interface TaskConfig {
  readonly action: Values<typeof ACTIONS>;
  readonly region?: string;
  readonly endpointUrl?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly role?: { readonly arn: string; readonly externalId?: string };
  readonly stateMachineArn: string;
  readonly stateMachine: ParsedStateMachineArn;
  readonly executionName?: string;
  /** The input exactly as written; "{}" when empty. */
  readonly input: string;
  readonly wait: boolean;
  readonly pollingIntervalSeconds: number;
  readonly maximumWaitSeconds: number;
  readonly maximumWaitAction: Values<typeof MAXIMUM_WAIT_ACTIONS>;
  readonly stopExecutionOnCancel: boolean;
  readonly rerunBehaviour: Values<typeof RERUN_BEHAVIOURS>;
  readonly proxy?: ProxyConfig;
  /** Extra CA certificates (PEM) for the AWS endpoint, from AWS_CA_BUNDLE. */
  readonly endpointCa?: string;
  /** The values as the form keeps them, for the output document's echo. */
  readonly fields: FieldValues;
}

export interface ParsedStateMachineArn {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly name: string;
  readonly qualifier?: string;
}

const PARTITION = "aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc";
const REGION = "[a-z]{2}(?:-[a-z]+)+-\\d{1,2}";
const NAME = '[^\\s<>{}\\[\\]?*"#%\\\\^|~`$&,;:/\\u0000-\\u001f\\u007f-\\u009f]{1,80}';
const STATE_MACHINE_ARN = new RegExp(
  `^arn:(${PARTITION}):states:(${REGION}):(\\d{12}):stateMachine:(${NAME})(?::(${NAME}))?$`,
);
const ROLE_ARN = new RegExp(`^arn:(${PARTITION}):iam::\\d{12}:role/[\\w+=,.@/-]{1,512}$`);
const INSTANCE_PROFILE_ARN = new RegExp(`^arn:(${PARTITION}):iam::\\d{12}:instance-profile/`);
const REGION_ONLY = new RegExp(`^${REGION}$`);

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
      message = `must be at most ${p["limit"]} characters`;
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

function str(values: FieldValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

function choice<T extends string>(values: FieldValues, name: string, fallback: T): T {
  const v = values[name];
  return (Array.isArray(v) ? v[0] : fallback) as T;
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
    return `must be valid JSON: ${jsonSyntaxError(input, error)}`;
  }
  return null;
}

function checkUrl(value: string): string | null {
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

/** AWS_CA_BUNDLE, as the AWS SDKs and CLI honour it: PEM CAs trusted for the endpoint. */
function readEndpointCa(env: NodeJS.ProcessEnv, problems: FieldProblem[]): string | undefined {
  const file = env["AWS_CA_BUNDLE"];
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    problems.push({
      field: "AWS_CA_BUNDLE",
      label: "AWS_CA_BUNDLE",
      message: `cannot read ${file} (${code})`,
    });
    return undefined;
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    problems.push({
      field: "AWS_CA_BUNDLE",
      label: "AWS_CA_BUNDLE",
      message: `${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    });
    return undefined;
  }
  return text;
}

export interface ValidationContext {
  readonly executionCount: number;
}

/**
 * Validate raw values (already in runtime shapes). Returns the configuration or throws a
 * DataValidationError listing every problem.
 */
export function validate(
  entered: FieldValues,
  earlier: readonly FieldProblem[],
  context: ValidationContext,
  env: NodeJS.ProcessEnv = {},
): TaskConfig {
  const problems: FieldProblem[] = [...earlier];
  const form = evaluateForm(TEMPLATE.fields, entered);
  const values = form.values;

  if (!validateFields(values)) {
    const seen = new Set<string>();
    for (const error of validateFields.errors ?? []) {
      const p = describeAjvError(error);
      const key = p ? `${p.field}:${p.message}` : "";
      if (p && !seen.has(key)) {
        seen.add(key);
        problems.push(p);
      }
    }
  }
  const bad = new Set(problems.map((p) => p.field));
  const add = (name: string, message: string) => {
    problems.push({ field: name, label: labelOf(name), message });
    bad.add(name);
  };

  const stateMachineArn = str(values, "state_machine_arn");
  let stateMachine: ParsedStateMachineArn | null = null;
  if (stateMachineArn && !bad.has("state_machine_arn")) {
    stateMachine = parseStateMachineArn(stateMachineArn.trim());
    if (!stateMachine) {
      add(
        "state_machine_arn",
        "must look like arn:aws:states:<region>:<12-digit account>:stateMachine:<name>[:<version or alias>]",
      );
    }
  }

  const region = str(values, "region")?.trim();
  if (region && !bad.has("region")) {
    if (!REGION_ONLY.test(region)) add("region", "must be a region code such as eu-west-1");
    else if (stateMachine && stateMachine.region !== region) {
      add(
        "region",
        `is ${region} but the State Machine ARN is in ${stateMachine.region}; leave the region empty or make them agree`,
      );
    }
  }

  const endpointUrl = str(values, "endpoint_url")?.trim();
  if (endpointUrl && !bad.has("endpoint_url")) {
    const message = checkUrl(endpointUrl);
    if (message) add("endpoint_url", message);
  }

  const roleArn = str(values, "role_arn")?.trim();
  if (roleArn && !bad.has("role_arn")) {
    if (INSTANCE_PROFILE_ARN.test(roleArn)) {
      add(
        "role_arn",
        "is an instance-profile ARN; give the ARN of the role itself (arn:aws:iam::<account>:role/<name>)",
      );
    } else if (!ROLE_ARN.test(roleArn)) {
      add("role_arn", "must look like arn:aws:iam::<12-digit account>:role/<path/name>");
    }
  }

  const externalId = str(values, "role_external_id");
  if (externalId && !/^[\w+=,.@:/-]{2,1224}$/.test(externalId)) {
    add("role_external_id", "must be 2 to 1224 characters of letters, digits and +=,.@:/-");
  }

  const executionName = str(values, "execution_name");
  if (executionName && !bad.has("execution_name")) {
    const message = checkExecutionName(executionName, context.executionCount);
    if (message) add("execution_name", message);
  }

  const rawInput = str(values, "input");
  const input = rawInput !== undefined && rawInput.trim().length > 0 ? rawInput : "{}";
  if (!bad.has("input")) {
    const message = checkInput(input);
    if (message) add("input", message);
  }

  const credentials = values["credentials"] as CredentialValue | undefined;
  if (credentials && !/^[A-Z0-9]{16,128}$/.test(credentials.user)) {
    add("credentials", "user must be an access key id (16 to 128 capital letters and digits)");
  }

  let proxy: ProxyConfig | undefined;
  if (values["use_proxy"] === true) {
    const parsed = parseProxyConfig({
      proxy_type: values["proxy_type"] as string[] | undefined,
      proxy: str(values, "proxy"),
      proxy_ca_bundle_file: str(values, "proxy_ca_bundle_file"),
      proxy_credentials: values["proxy_credentials"] as CredentialValue | undefined,
    });
    if (parsed.config) proxy = parsed.config;
    for (const p of parsed.problems ?? []) {
      // The schema already said "is required" for an empty required field.
      if (!problems.some((q) => q.field === p.field)) problems.push(p);
    }
  }
  for (const p of timeoutOverrides(env).problems) problems.push(p);
  if (!endpointUrl) problems.push(...checkEndpointEnvironment(env, checkUrl));
  problems.push(...checkFailureLimit(env));
  const endpointCa = readEndpointCa(env, problems);

  if (problems.length > 0) throw validationErrorFrom(problems);

  const config: TaskConfig = {
    action: choice(values, "action", ACTIONS.startAsync),
    ...(region ? { region } : {}),
    ...(endpointUrl ? { endpointUrl } : {}),
    ...(credentials
      ? { credentials: { accessKeyId: credentials.user, secretAccessKey: credentials.password } }
      : {}),
    ...(values["role_based_access"] === true && roleArn
      ? { role: externalId ? { arn: roleArn, externalId } : { arn: roleArn } }
      : {}),
    stateMachineArn: (stateMachineArn as string).trim(),
    stateMachine: stateMachine as ParsedStateMachineArn,
    ...(executionName ? { executionName } : {}),
    input,
    wait: values["wait_for_success_or_failure"] === true,
    pollingIntervalSeconds: (values["polling_interval"] as number | undefined) ?? 10,
    maximumWaitSeconds: (values["maximum_wait"] as number | undefined) ?? 0,
    maximumWaitAction: choice(values, "maximum_wait_action", MAXIMUM_WAIT_ACTIONS.stop),
    stopExecutionOnCancel: values["stop_execution_on_cancel"] !== false,
    rerunBehaviour: choice(values, "rerun_behaviour", RERUN_BEHAVIOURS.startNew),
    ...(proxy ? { proxy } : {}),
    ...(endpointCa ? { endpointCa } : {}),
    fields: values,
  };
  return config;
}
