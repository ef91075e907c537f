import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DataValidationError } from "../../src/errors.ts";
import { readFields } from "../../src/fields/read.ts";
import type { FieldValues } from "../../src/fields/template-types.ts";
import { parseStateMachineArn, validate } from "../../src/fields/validate.ts";

const ARN = "arn:aws:states:eu-west-1:123456789012:stateMachine:Orders";

function check(env: Record<string, string>, argv: string[] = []) {
  const raw = readFields({ UE_FIELD_STATE_MACHINE_ARN: ARN, ...env }, argv);
  return validate(raw.values, raw.problems);
}

function problemsOf(env: Record<string, string>, argv: string[] = []): string[] {
  try {
    check(env, argv);
  } catch (error) {
    assert.ok(error instanceof DataValidationError, String(error));
    return error.problems.map((p) => `${p.label}: ${p.message}`);
  }
  return [];
}

describe("validation of field values", () => {
  test("a minimal valid task: defaults applied, input {}", () => {
    const config = check({});
    assert.equal(config.stateMachineArn, ARN);
    assert.equal(config.input, "{}");
    assert.equal(config.wait, false);
    assert.equal(config.pollingIntervalSeconds, 10);
    assert.equal(config.stopExecutionOnCancel, true);
    assert.equal(config.stateMachine?.region, "eu-west-1");
  });

  test("only the real problem when the Action is no choice or the fields file is unusable", () => {
    // The ARN is set (check's default): nothing is missing, whatever the action would need.
    assert.deepEqual(
      problemsOf({ UE_FIELD_ACTION: "Start Something" }).map((p) => p.split(":")[0]),
      ["Action"],
    );
    // A fields file that cannot be read: the file is the one problem named.
    const raw = readFields({ UE_FIELDS_FILE: "/nonexistent/fields.json" }, []);
    assert.throws(
      () => validate(raw.values, raw.problems),
      (error: unknown) =>
        error instanceof DataValidationError &&
        JSON.stringify(error.problems.map((p) => p.label)) ===
          JSON.stringify(["UE_FIELDS_FILE /nonexistent/fields.json"]),
    );
  });

  test("an X-Ray trace header is passed exactly as written", () => {
    const header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    assert.equal(check({ UE_FIELD_TRACE_HEADER: header }).traceHeader, header);
    assert.equal(check({}).traceHeader, undefined);
  });

  test("input is kept byte for byte, escapes intact", () => {
    const input = '{"a":"line\\nbreak","u":"\\u00e9","n":1.50}';
    assert.equal(check({ UE_FIELD_INPUT: input }).input, input);
  });

  // [what, env, expected problem (label: start of message)]
  const bad: Array<[string, Record<string, string>, string]> = [
    [
      "ARN of another service",
      { UE_FIELD_STATE_MACHINE_ARN: "arn:aws:lambda:eu-west-1:123456789012:function:x" },
      "State Machine ARN: must look like",
    ],
    [
      "ARN with short account",
      { UE_FIELD_STATE_MACHINE_ARN: "arn:aws:states:eu-west-1:1234:stateMachine:x" },
      "State Machine ARN: must look like",
    ],
    ["missing ARN", { UE_FIELD_STATE_MACHINE_ARN: "" }, "State Machine ARN: is required"],
    [
      "a qualified ARN naming a Distributed Map state",
      { UE_FIELD_STATE_MACHINE_ARN: `${ARN}/Items` },
      `State Machine ARN: names the Distributed Map state labelled "Items" of a state machine, not a state machine (StartExecution refuses it: a Map state's child executions are started by its Map Run); give the state machine's ARN ${ARN}`,
    ],
    [
      "region contradicts ARN",
      { UE_FIELD_REGION: "us-east-1" },
      "AWS Region: is us-east-1 but the State Machine ARN is in eu-west-1",
    ],
    ["malformed region", { UE_FIELD_REGION: "Europe" }, "AWS Region: must be a region code"],
    ["input not JSON", { UE_FIELD_INPUT: "{oops}" }, "Input: is not valid JSON: "],
    [
      "trace header over 256 characters",
      { UE_FIELD_TRACE_HEADER: `Root=1-${"a".repeat(251)}` },
      "X-Ray Trace Header: must be at most 256 characters",
    ],
    [
      "trace header not ASCII",
      { UE_FIELD_TRACE_HEADER: "Root=1-5759e988-bd862e3fe1be46a994272793;Tag=é" },
      "X-Ray Trace Header: must be ASCII characters only",
    ],
    [
      "input too big",
      { UE_FIELD_INPUT: JSON.stringify({ x: "é".repeat(131_072) }) },
      "Input: is 262152 bytes",
    ],
    [
      "polling interval zero",
      { UE_FIELD_WAIT_FOR_SUCCESS_OR_FAILURE: "true", UE_FIELD_POLLING_INTERVAL: "0" },
      "Polling Interval: must be at least 1",
    ],
    [
      "polling interval text",
      { UE_FIELD_WAIT_FOR_SUCCESS_OR_FAILURE: "true", UE_FIELD_POLLING_INTERVAL: "5s" },
      "Polling Interval: must be a whole number",
    ],
    [
      "polling interval fraction",
      { UE_FIELD_WAIT_FOR_SUCCESS_OR_FAILURE: "true", UE_FIELD_POLLING_INTERVAL: "2.5" },
      "Polling Interval: must be a whole number",
    ],
    [
      "boolean not a boolean",
      { UE_FIELD_WAIT_FOR_SUCCESS_OR_FAILURE: "yes" },
      "Wait for Success or Failure: must be true or false",
    ],
    [
      "unknown action",
      { UE_FIELD_ACTION: "Start Something" },
      "Action: must be one of: Start Asynchronous Execution",
    ],
    [
      "role ARN missing",
      { UE_FIELD_ROLE_BASED_ACCESS: "true" },
      "Role ARN: is required when Role Based Access is true",
    ],
    [
      "instance profile instead of role",
      {
        UE_FIELD_ROLE_BASED_ACCESS: "true",
        UE_FIELD_ROLE_ARN: "arn:aws:iam::123456789012:instance-profile/web",
      },
      "Role ARN: is an instance-profile ARN",
    ],
    [
      "role ARN of another partition than the state machine",
      {
        UE_FIELD_ROLE_BASED_ACCESS: "true",
        UE_FIELD_ROLE_ARN: "arn:aws-cn:iam::123456789012:role/runner",
      },
      "Role ARN: is in partition aws-cn, but the state machine is in aws",
    ],
    [
      "role ARN of another partition than the target execution",
      {
        UE_FIELD_ACTION: "Monitor Execution",
        UE_FIELD_STATE_MACHINE_ARN: "",
        UE_FIELD_TARGET_EXECUTION_ARN: "arn:aws:states:eu-west-1:123456789012:execution:m:run-1",
        UE_FIELD_ROLE_BASED_ACCESS: "true",
        UE_FIELD_ROLE_ARN: "arn:aws-us-gov:iam::123456789012:role/runner",
      },
      "Role ARN: is in partition aws-us-gov, but the target execution is in aws",
    ],
    [
      "role ARN of a user",
      {
        UE_FIELD_ROLE_BASED_ACCESS: "true",
        UE_FIELD_ROLE_ARN: "arn:aws:iam::123456789012:user/bob",
      },
      "Role ARN: must look like",
    ],
    [
      "execution name with space",
      { UE_FIELD_EXECUTION_NAME: "nightly run" },
      "Execution Name: must not contain whitespace",
    ],
    [
      "execution name with colon",
      { UE_FIELD_EXECUTION_NAME: "a:b" },
      'Execution Name: must not contain ":"',
    ],
    [
      "execution name too long for the instance tag and run number",
      { UE_FIELD_EXECUTION_NAME: "n".repeat(62) },
      "Execution Name: must be at most 61 characters, so that the task instance tag (-<8 hex digits>) and the run number (-<up to 9 digits>) fit in AWS's 80",
    ],
    ["proxy missing", { UE_FIELD_USE_PROXY: "true" }, "Proxy: is required when Use Proxy is true"],
    [
      "proxy credentials missing",
      {
        UE_FIELD_USE_PROXY: "true",
        UE_FIELD_PROXY_TYPE: "HTTPS With Credentials",
        UE_FIELD_PROXY: "https://p:3128",
      },
      "Proxy Credentials: is required when Proxy Type is HTTPS With Credentials",
    ],
    [
      "credential without password",
      { UE_FIELD_CREDENTIALS_USER: "AKIAIOSFODNN7EXAMPLE" },
      "AWS Credentials: needs both a user and a password",
    ],
    [
      "endpoint not a URL",
      { UE_FIELD_ENDPOINT_URL: "states.local" },
      "Endpoint URL: must be a URL",
    ],
    [
      "endpoint with credentials",
      { UE_FIELD_ENDPOINT_URL: "https://u:p@states.local" },
      "Endpoint URL: must not contain credentials",
    ],
  ];
  for (const [what, env, expected] of bad) {
    test(`refuses: ${what}`, () => {
      const problems = problemsOf(env);
      assert.ok(
        problems.some((p) => p.startsWith(expected)),
        `got ${JSON.stringify(problems)}`,
      );
    });
  }

  test("an access key id of any shape is passed on (an emulator's default is test)", () => {
    const config = check({
      UE_FIELD_CREDENTIALS_USER: "test",
      UE_FIELD_CREDENTIALS_PASSWORD: "s3cr3t-value",
    });
    assert.deepEqual(config.credentials, { accessKeyId: "test", secretAccessKey: "s3cr3t-value" });
  });

  test("input of exactly 262,144 bytes is accepted", () => {
    const input = JSON.stringify({ x: "a".repeat(262_144 - 8) });
    assert.equal(Buffer.byteLength(input), 262_144);
    assert.equal(check({ UE_FIELD_INPUT: input }).input, input);
  });

  test("every problem is reported at once", () => {
    const problems = problemsOf({
      UE_FIELD_STATE_MACHINE_ARN: "nope",
      UE_FIELD_INPUT: "[",
      UE_FIELD_WAIT_FOR_SUCCESS_OR_FAILURE: "true",
      UE_FIELD_POLLING_INTERVAL: "-1",
    });
    // Each field named with what it expects, in any order, and nothing else.
    assert.deepEqual([...problems].sort(), [
      "Input: is not valid JSON: a closing ] expected at line 1, column 2 (character 2)",
      "Polling Interval: must be at least 1",
      "State Machine ARN: must look like arn:aws:states:<region>:<12-digit account>:stateMachine:<name>[:<version or alias>]",
    ]);
  });

  test("unknown flags and credential flags are refused", () => {
    const problems = problemsOf({}, ["--no-such-flag", "x", "--credentials", "AKIA:secret"]);
    assert.ok(problems.some((p) => p.startsWith("--no-such-flag: is not a known flag")));
    assert.ok(
      problems.some((p) =>
        p.startsWith("AWS Credentials: --credentials cannot be given as a flag"),
      ),
    );
    // The unknown flag's value is taken with it, not reported as a second problem.
    assert.equal(problems.length, 2, JSON.stringify(problems));
  });

  // [argv, the one problem expected]
  const reportedOnce: Array<[readonly string[], string]> = [
    [
      ["--state-machine-arn", ""],
      "State Machine ARN: --state-machine-arn needs a value (got an empty one)",
    ],
    [
      ["--state-machine-arn="],
      "State Machine ARN: --state-machine-arn needs a value (got an empty one)",
    ],
    [["--state-machine-arn"], "State Machine ARN: --state-machine-arn needs a value (got none)"],
    [
      ["--state-machine-arn", ARN, "--input-file", "/nonexistent/input.json"],
      "Input: --input-file /nonexistent/input.json: no such file",
    ],
  ];
  for (const [argv, expected] of reportedOnce) {
    test(`a required value missing from a flag is reported once: ${argv.join(" ")}`, () => {
      const raw = readFields({}, argv);
      try {
        validate(raw.values, raw.problems);
        assert.fail("no validation error");
      } catch (error) {
        assert.ok(error instanceof DataValidationError, String(error));
        assert.deepEqual(
          error.problems.map((p) => `${p.label}: ${p.message}`),
          [expected],
        );
      }
    });
  }

  test("flags override environment values", () => {
    const config = check({ UE_FIELD_POLLING_INTERVAL: "10" }, [
      "--wait-for-success-or-failure",
      "--polling-interval=3",
    ]);
    assert.equal(config.wait, true);
    assert.equal(config.pollingIntervalSeconds, 3);
  });

  test("a variable for a field the settings hide is refused, naming the rule", () => {
    const problems = problemsOf({
      UE_FIELD_ROLE_ARN: "arn:aws:iam::123456789012:role/x",
      UE_FIELD_ROLE_BASED_ACCESS: "false",
    });
    assert.deepEqual(problems, [
      "Role ARN: UE_FIELD_ROLE_ARN does not apply to Start Asynchronous Execution while Role Based Access is false (Role ARN is used only when Role Based Access is true); remove it",
    ]);
  });

  test("state machine ARNs with version or alias qualifiers and other partitions", () => {
    assert.equal(parseStateMachineArn(`${ARN}:7`)?.qualifier, "7");
    assert.equal(parseStateMachineArn(`${ARN}:prod`)?.qualifier, "prod");
    assert.equal(
      parseStateMachineArn("arn:aws-cn:states:cn-north-1:123456789012:stateMachine:x")?.partition,
      "aws-cn",
    );
    assert.equal(
      parseStateMachineArn("arn:aws-us-gov:states:us-gov-west-1:123456789012:stateMachine:x")
        ?.region,
      "us-gov-west-1",
    );
    // Every partition of the SDK's table, with a region of each (the table's own patterns).
    const partitions: Array<[string, string]> = [
      ["aws", "mx-central-1"],
      ["aws-iso", "us-iso-east-1"],
      ["aws-iso-b", "us-isob-east-1"],
      ["aws-iso-e", "eu-isoe-west-1"],
      ["aws-iso-f", "us-isof-south-1"],
      ["aws-eusc", "eusc-de-east-1"],
    ];
    for (const [partition, region] of partitions) {
      const arn = `arn:${partition}:states:${region}:123456789012:stateMachine:x`;
      assert.equal(parseStateMachineArn(arn)?.region, region, arn);
      assert.deepEqual(
        problemsOf({ UE_FIELD_STATE_MACHINE_ARN: arn, UE_FIELD_REGION: region }),
        [],
      );
    }
  });
});

describe("validation of the fields of the further actions", () => {
  const EXEC = "arn:aws:states:eu-west-1:123456789012:execution:Orders:nightly-1";
  const EXPRESS = "arn:aws:states:eu-west-1:123456789012:express:Orders:nightly-1:0f1e2d3c";
  const TOKEN = `AQCEAAAAKgAAAAMAAAAA${"x".repeat(200)}`;
  const action = (name: string, env: Record<string, string> = {}) => ({
    UE_FIELD_ACTION: name,
    UE_FIELD_STATE_MACHINE_ARN: "",
    ...env,
  });

  test("Monitor Execution: always waits, with its own settings, leaving the execution running", () => {
    const raw = readFields(
      action("Monitor Execution", { UE_FIELD_TARGET_EXECUTION_ARN: EXEC }),
      [],
    );
    const config = validate(raw.values, raw.problems);
    assert.equal(config.targetExecutionArn, EXEC);
    assert.equal(config.targetExecution?.region, "eu-west-1");
    assert.equal(config.targetExecution?.stateMachineName, "Orders");
    assert.equal(config.wait, true);
    assert.equal(config.pollingIntervalSeconds, 10);
    assert.equal(config.maximumWaitAction, "Leave Execution Running");
    assert.equal(config.stopExecutionOnCancel, false);
    assert.equal(config.stateMachineArn, undefined);
  });

  test("Monitor Execution: the monitor fields are used, not the start's", () => {
    const raw = readFields(
      action("Monitor Execution", {
        UE_FIELD_TARGET_EXECUTION_ARN: EXEC,
        UE_FIELD_MONITOR_POLLING_INTERVAL: "3",
        UE_FIELD_MONITOR_MAXIMUM_WAIT: "60",
        UE_FIELD_STOP_MONITORED_ON_CANCEL: "true",
      }),
      [],
    );
    const config = validate(raw.values, raw.problems);
    assert.equal(config.pollingIntervalSeconds, 3);
    assert.equal(config.maximumWaitSeconds, 60);
    assert.equal(config.stopExecutionOnCancel, true);
  });

  test("Send Task Success: token and output kept exactly; output empty means {}", () => {
    const output = '{ "done": true, "n": 1.50 }';
    const env = { UE_FIELD_TASK_TOKEN: TOKEN, UE_FIELD_REGION: "eu-west-1" };
    let raw = readFields(action("Send Task Success", { ...env, UE_FIELD_TASK_OUTPUT: output }), []);
    let config = validate(raw.values, raw.problems);
    assert.equal(config.taskToken, TOKEN);
    assert.equal(config.taskOutput, output);
    raw = readFields(action("Send Task Success", env), []);
    config = validate(raw.values, raw.problems);
    assert.equal(config.taskOutput, "{}");
  });

  test("Redrive Execution can wait with the waiting fields", () => {
    const raw = readFields(
      action("Redrive Execution", {
        UE_FIELD_TARGET_EXECUTION_ARN: EXEC,
        UE_FIELD_WAIT_FOR_SUCCESS_OR_FAILURE: "true",
        UE_FIELD_POLLING_INTERVAL: "4",
      }),
      [],
    );
    const config = validate(raw.values, raw.problems);
    assert.equal(config.wait, true);
    assert.equal(config.pollingIntervalSeconds, 4);
    assert.equal(config.stopExecutionOnCancel, true);
  });

  // A child execution of a Distributed Map: its Map Run's state machine is <name>/<label>.
  const CHILD =
    "arn:aws:states:eu-west-1:123456789012:execution:Orders/Items:0c9f5c5e-3c47-4b6f-9a3e-0d1b2c3d4e5f";
  const EXPRESS_CHILD =
    "arn:aws:states:eu-west-1:123456789012:express:Orders/Items:0c9f5c5e-3c47-4b6f-9a3e-0d1b2c3d4e5f:9d8e7f6a";

  // [what, action, ARN, state machine name, label, Express]
  const children: Array<[string, string, string, string, string, boolean]> = [
    ["Monitor, a Standard child", "Monitor Execution", CHILD, "Orders", "Items", false],
    ["Stop, a Standard child", "Stop Execution", CHILD, "Orders", "Items", false],
    ["Redrive, a Standard child", "Redrive Execution", CHILD, "Orders", "Items", false],
    ["Monitor, an Express child", "Monitor Execution", EXPRESS_CHILD, "Orders", "Items", true],
    [
      "Monitor, an Express child without the id after its name",
      "Monitor Execution",
      "arn:aws:states:eu-west-1:123456789012:express:Orders/Items:0c9f5c5e",
      "Orders",
      "Items",
      true,
    ],
    [
      "a label AWS generated (a UUID)",
      "Monitor Execution",
      "arn:aws:states:eu-west-1:123456789012:execution:Orders/3c39a231-69bb-3d89-8607-9e124eddbb0b:c1",
      "Orders",
      "3c39a231-69bb-3d89-8607-9e124eddbb0b",
      false,
    ],
    [
      "a label holding a slash (AWS's Label rules allow one)",
      "Stop Execution",
      "arn:aws:states:eu-west-1:123456789012:execution:Orders/by/day:c1",
      "Orders",
      "by/day",
      false,
    ],
  ];
  for (const [what, name, arn, machine, label, express] of children) {
    test(`a Distributed Map's child execution is accepted: ${what}`, () => {
      const raw = readFields(action(name, { UE_FIELD_TARGET_EXECUTION_ARN: arn }), []);
      const config = validate(raw.values, raw.problems);
      assert.equal(config.targetExecutionArn, arn);
      assert.equal(config.targetExecution?.stateMachineName, machine);
      assert.equal(config.targetExecution?.mapLabel, label);
      assert.equal(config.targetExecution?.express, express);
      assert.equal(config.targetExecution?.region, "eu-west-1");
      assert.equal(config.targetExecution?.partition, "aws");
    });
  }

  test("a Standard execution has no label and is not Express", () => {
    const raw = readFields(action("Stop Execution", { UE_FIELD_TARGET_EXECUTION_ARN: EXEC }), []);
    const parsed = validate(raw.values, raw.problems).targetExecution;
    assert.equal(parsed?.mapLabel, undefined);
    assert.equal(parsed?.express, false);
    assert.equal(parsed?.name, "nightly-1");
  });

  test("a child execution's partition and region are checked as any execution's", () => {
    const cn = CHILD.replace("arn:aws:", "arn:aws-cn:").replace("eu-west-1", "cn-north-1");
    const problems = problemsOf(
      action("Monitor Execution", {
        UE_FIELD_TARGET_EXECUTION_ARN: cn,
        UE_FIELD_REGION: "cn-northwest-1",
        UE_FIELD_ROLE_BASED_ACCESS: "true",
        UE_FIELD_ROLE_ARN: "arn:aws:iam::123456789012:role/Runner",
      }),
    );
    assert.ok(
      problems.includes(
        "AWS Region: is cn-northwest-1 but the Target Execution ARN is in cn-north-1; leave the region empty or make them agree",
      ),
      JSON.stringify(problems),
    );
    assert.ok(
      problems.some((p) =>
        p.startsWith("Role ARN: is in partition aws, but the target execution is in aws-cn"),
      ),
      JSON.stringify(problems),
    );
  });

  // [what, env, expected problem (label: start of message)]
  const bad: Array<[string, Record<string, string>, string]> = [
    ["monitor without ARN", action("Monitor Execution"), "Target Execution ARN: is required"],
    ["stop without ARN", action("Stop Execution"), "Target Execution ARN: is required"],
    ["redrive without ARN", action("Redrive Execution"), "Target Execution ARN: is required"],
    [
      "a state machine ARN where an execution is expected",
      action("Monitor Execution", { UE_FIELD_TARGET_EXECUTION_ARN: ARN }),
      "Target Execution ARN: must look like arn:aws:states:<region>:<12-digit account>:execution:",
    ],
    [
      "an Express execution to monitor",
      action("Monitor Execution", { UE_FIELD_TARGET_EXECUTION_ARN: EXPRESS }),
      "Target Execution ARN: is an Express execution",
    ],
    [
      "an Express execution to redrive",
      action("Redrive Execution", { UE_FIELD_TARGET_EXECUTION_ARN: EXPRESS }),
      "Target Execution ARN: is an Express execution",
    ],
    [
      "an Express child execution of a Distributed Map to stop",
      action("Stop Execution", { UE_FIELD_TARGET_EXECUTION_ARN: EXPRESS_CHILD }),
      'Target Execution ARN: is an Express child execution of the Distributed Map state labelled "Items"; StopExecution does not serve Express executions',
    ],
    [
      "an Express child execution of a Distributed Map to redrive",
      action("Redrive Execution", { UE_FIELD_TARGET_EXECUTION_ARN: EXPRESS_CHILD }),
      'Target Execution ARN: is an Express child execution of the Distributed Map state labelled "Items"; RedriveExecution does not serve Express executions: redrive its parent execution',
    ],
    [
      "a child execution ARN with an empty label",
      action("Monitor Execution", {
        UE_FIELD_TARGET_EXECUTION_ARN: "arn:aws:states:eu-west-1:123456789012:execution:Orders/:c1",
      }),
      "Target Execution ARN: must look like arn:aws:states:<region>:<12-digit account>:execution:<state machine>[/<Distributed Map label>]:<execution name>",
    ],
    [
      "a child execution ARN whose label holds whitespace",
      action("Monitor Execution", {
        UE_FIELD_TARGET_EXECUTION_ARN:
          "arn:aws:states:eu-west-1:123456789012:execution:Orders/My Items:c1",
      }),
      "Target Execution ARN: must look like",
    ],
    [
      "region contradicts the execution ARN",
      action("Stop Execution", {
        UE_FIELD_TARGET_EXECUTION_ARN: EXEC,
        UE_FIELD_REGION: "us-east-1",
      }),
      "AWS Region: is us-east-1 but the Target Execution ARN is in eu-west-1",
    ],
    [
      "monitor polling interval zero",
      action("Monitor Execution", {
        UE_FIELD_TARGET_EXECUTION_ARN: EXEC,
        UE_FIELD_MONITOR_POLLING_INTERVAL: "0",
      }),
      "Monitor Polling Interval: must be at least 1",
    ],
    [
      "stop error too long",
      action("Stop Execution", {
        UE_FIELD_TARGET_EXECUTION_ARN: EXEC,
        UE_FIELD_ERROR: "e".repeat(257),
      }),
      "Error: must be at most 256 characters",
    ],
    [
      "failure cause too long",
      action("Send Task Failure", {
        UE_FIELD_TASK_TOKEN: TOKEN,
        UE_FIELD_REGION: "eu-west-1",
        UE_FIELD_CAUSE: "c".repeat(32_769),
      }),
      "Cause: must be at most 32768 characters",
    ],
    [
      "task token missing",
      action("Send Task Heartbeat", { UE_FIELD_REGION: "eu-west-1" }),
      "Task Token: is required",
    ],
    [
      "task token too long",
      action("Send Task Heartbeat", {
        UE_FIELD_REGION: "eu-west-1",
        UE_FIELD_TASK_TOKEN: "t".repeat(2049),
      }),
      "Task Token: must be at most 2048 characters",
    ],
    [
      "task token with a trailing newline",
      action("Send Task Heartbeat", {
        UE_FIELD_REGION: "eu-west-1",
        UE_FIELD_TASK_TOKEN: `${TOKEN}\n`,
      }),
      "Task Token: must not start or end with whitespace",
    ],
    [
      "task output not JSON",
      action("Send Task Success", {
        UE_FIELD_REGION: "eu-west-1",
        UE_FIELD_TASK_TOKEN: TOKEN,
        UE_FIELD_TASK_OUTPUT: "{done}",
      }),
      "Task Output: is not valid JSON: ",
    ],
    [
      "task output too big",
      action("Send Task Success", {
        UE_FIELD_REGION: "eu-west-1",
        UE_FIELD_TASK_TOKEN: TOKEN,
        UE_FIELD_TASK_OUTPUT: JSON.stringify({ x: "é".repeat(131_072) }),
      }),
      "Task Output: is 262152 bytes",
    ],
    [
      "start sync without a state machine",
      action("Start Synchronous Express Execution"),
      "State Machine ARN: is required",
    ],
  ];
  for (const [what, env, expected] of bad) {
    test(`refuses: ${what}`, () => {
      const problems = problemsOf({ UE_FIELD_STATE_MACHINE_ARN: "", ...env });
      assert.ok(
        problems.some((p) => p.startsWith(expected)),
        `got ${JSON.stringify(problems)}`,
      );
    });
  }

  test("all problems of a callback task at once", () => {
    const problems = problemsOf(
      action("Send Task Failure", {
        UE_FIELD_TASK_TOKEN: "t".repeat(2049),
        UE_FIELD_ERROR: "e".repeat(300),
        UE_FIELD_TASK_OUTPUT: "{not json",
      }),
    );
    // The hidden Task Output is named as not applying, not checked as JSON.
    assert.equal(problems.length, 3, JSON.stringify(problems));
    assert.ok(
      problems.includes(
        "Task Output: UE_FIELD_TASK_OUTPUT does not apply to Send Task Failure (Task Output is used only when Action is Send Task Success); remove it",
      ),
      JSON.stringify(problems),
    );
  });

  test("a task token names no region: the field, or a region in the environment", () => {
    const raw = readFields(action("Send Task Heartbeat", { UE_FIELD_TASK_TOKEN: TOKEN }), []);
    assert.throws(
      () => validate(raw.values, raw.problems, { environmentRegion: false }),
      (e: unknown) =>
        e instanceof DataValidationError &&
        e.problems.some((p) => p.message.startsWith("is required for Send Task Heartbeat")),
    );
    const fromEnvironment = validate(raw.values, raw.problems, {
      environmentRegion: true,
    });
    assert.equal(fromEnvironment.taskToken, TOKEN);
    const withField = readFields(
      action("Send Task Heartbeat", { UE_FIELD_TASK_TOKEN: TOKEN, UE_FIELD_REGION: "eu-west-1" }),
      [],
    );
    assert.equal(
      validate(withField.values, withField.problems, {
        environmentRegion: false,
      }).region,
      "eu-west-1",
    );
  });

  test("a task token is refused as a flag and never echoed in the problem", () => {
    const problems = problemsOf(action("Send Task Heartbeat", { UE_FIELD_REGION: "eu-west-1" }), [
      "--task-token",
      TOKEN,
    ]);
    assert.ok(
      problems.some((p) => p.startsWith("Task Token: --task-token cannot be given as a flag")),
    );
    assert.ok(!JSON.stringify(problems).includes(TOKEN));
  });
});

describe("validation of the picker fields (State Machine, Execution)", () => {
  const MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:Orders";
  const OTHER = "arn:aws:states:eu-west-1:123456789012:stateMachine:Billing";
  const EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:Orders:run-1";
  const run = (fields: FieldValues) => validate(fields, []);
  const problems = (fields: FieldValues): string[] => {
    try {
      run(fields);
    } catch (error) {
      assert.ok(error instanceof DataValidationError, String(error));
      return error.problems.map((p) => `${p.label}: ${p.message}`);
    }
    return [];
  };

  test("a picked state machine is used when State Machine ARN is empty (label, then ARN)", () => {
    const config = run({ state_machine: [`Orders (STANDARD) ${MACHINE}`] });
    assert.equal(config.stateMachineArn, MACHINE);
    assert.equal(config.stateMachine?.name, "Orders");
  });

  test("both set and naming one state machine: the typed ARN (with its alias) wins", () => {
    const config = run({ state_machine_arn: `${MACHINE}:prod`, state_machine: [MACHINE] });
    assert.equal(config.stateMachineArn, `${MACHINE}:prod`);
  });

  test("a child execution of a Distributed Map of the picked state machine agrees with it", () => {
    const child = `${MACHINE.replace(":stateMachine:", ":execution:")}/Items:c1`;
    const config = run({
      action: ["Redrive Execution"],
      state_machine: [MACHINE],
      target_execution_arn: child,
    });
    assert.equal(config.targetExecutionArn, child);
  });

  test("a picked execution is used when Target Execution ARN is empty", () => {
    const config = run({
      action: ["Stop Execution"],
      state_machine: [MACHINE],
      execution: [`run-1 (started 2026-01-01T00:00:00.000Z) ${EXECUTION}`],
    });
    assert.equal(config.targetExecutionArn, EXECUTION);
  });

  // [what, fields, the one problem expected (label: start of message)]
  const cases: Array<[string, FieldValues, string]> = [
    [
      "start: neither set",
      {},
      "State Machine ARN: is required when Action is Start Asynchronous Execution: type the ARN, or pick one in State Machine",
    ],
    [
      "start: both set and different",
      { state_machine_arn: MACHINE, state_machine: [OTHER] },
      `State Machine: is ${OTHER} but State Machine ARN is ${MACHINE}; clear one of them`,
    ],
    [
      "start: a picked value that holds no state machine ARN",
      { state_machine: ["Orders (STANDARD)"] },
      "State Machine: must hold a state machine ARN as the picker lists it",
    ],
    [
      "monitor: neither set",
      { action: ["Monitor Execution"] },
      "Target Execution ARN: is required when Action is Monitor Execution: type the ARN, or pick one in Execution",
    ],
    [
      "stop: both set and different",
      {
        action: ["Stop Execution"],
        target_execution_arn: `${EXECUTION}x`,
        execution: [EXECUTION],
      },
      `Execution: is ${EXECUTION} but Target Execution ARN is ${EXECUTION}x; clear one of them`,
    ],
    [
      "redrive: the typed execution belongs to another state machine than the one picked",
      { action: ["Redrive Execution"], state_machine: [OTHER], target_execution_arn: EXECUTION },
      `State Machine: is ${OTHER} but the execution ${EXECUTION} belongs to ${MACHINE}`,
    ],
    [
      "start: a picked value naming a Distributed Map state",
      { state_machine: [`${MACHINE}/Items`] },
      `State Machine: names the Distributed Map state labelled "Items" of a state machine, not a state machine`,
    ],
    [
      "monitor: a child execution of a Distributed Map of another state machine than the one picked",
      {
        action: ["Monitor Execution"],
        state_machine: [OTHER],
        target_execution_arn: `${MACHINE.replace(":stateMachine:", ":execution:")}/Items:c1`,
      },
      `State Machine: is ${OTHER} but the execution ${MACHINE.replace(":stateMachine:", ":execution:")}/Items:c1 is a child execution of a Distributed Map of ${MACHINE}`,
    ],
    [
      "the region contradicts the picked state machine",
      { region: "us-east-1", state_machine: [MACHINE] },
      "AWS Region: is us-east-1 but the State Machine picked is in eu-west-1",
    ],
  ];
  for (const [what, fields, expected] of cases) {
    test(what, () => {
      const found = problems(fields);
      assert.equal(found.length, 1, found.join("\n"));
      assert.ok(found[0]?.startsWith(expected), found[0]);
    });
  }
});
