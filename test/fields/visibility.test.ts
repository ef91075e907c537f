import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { FieldValues, Template, TemplateField } from "../../src/fields/template-types.ts";
import { evaluateForm, isSet, parseDefault } from "../../src/fields/visibility.ts";
import { validateFields } from "../../src/generated/validators.cjs";
import { ROOT } from "../helpers/paths.ts";

const template = JSON.parse(
  await readFile(join(ROOT, "template/template.json"), "utf8"),
) as Template;
const fields = template.fields;
const START = "Start Asynchronous Execution";

describe("evaluateForm on the product template", () => {
  test("defaults: the bare form shows the start fields and applies fieldValue defaults", () => {
    const form = evaluateForm(fields, {});
    assert.deepEqual(form.values, {
      action: [START],
      role_based_access: false,
      wait_for_success_or_failure: false,
      rerun_behaviour: ["Start New Execution"],
      use_proxy: false,
    });
    assert.ok(form.shown.has("state_machine_arn"));
    assert.ok(form.shown.has("state_machine"));
    assert.ok(!form.shown.has("execution"));
    assert.ok(!form.shown.has("polling_interval"));
    assert.ok(!form.shown.has("role_arn"));
    assert.ok(!form.shown.has("proxy"));
    // The form requires neither State Machine ARN nor State Machine: one of the two is
    // required, which the program checks (a form rule cannot say "one of").
    assert.deepEqual(form.missing, []);
  });

  // [entered values, fields that must be shown, fields that must be hidden, missing required]
  const cases: Array<[string, FieldValues, string[], string[], string[]]> = [
    [
      "role on",
      { role_based_access: true, state_machine_arn: "x" },
      ["role_arn", "role_external_id"],
      [],
      ["role_arn"],
    ],
    [
      "role off",
      { role_based_access: false, role_arn: "arn", state_machine_arn: "x" },
      [],
      ["role_arn", "role_external_id"],
      [],
    ],
    [
      "waiting",
      { wait_for_success_or_failure: true, state_machine_arn: "x" },
      ["polling_interval", "maximum_wait", "maximum_wait_action", "stop_execution_on_cancel"],
      [],
      [],
    ],
    [
      "not waiting",
      { wait_for_success_or_failure: false, state_machine_arn: "x" },
      [],
      ["polling_interval", "maximum_wait", "stop_execution_on_cancel"],
      [],
    ],
    [
      "proxy on, default type HTTP",
      { use_proxy: true, state_machine_arn: "x" },
      ["proxy_type", "proxy"],
      ["proxy_ca_bundle_file", "proxy_credentials"],
      ["proxy"],
    ],
    [
      "proxy HTTPS",
      { use_proxy: true, proxy_type: ["HTTPS"], proxy: "https://p:1", state_machine_arn: "x" },
      ["proxy_ca_bundle_file"],
      ["proxy_credentials"],
      [],
    ],
    [
      "proxy HTTPS with credentials",
      {
        use_proxy: true,
        proxy_type: ["HTTPS With Credentials"],
        proxy: "https://p:1",
        state_machine_arn: "x",
      },
      ["proxy_ca_bundle_file", "proxy_credentials"],
      [],
      ["proxy_credentials"],
    ],
    [
      "proxy off hides the whole proxy chain",
      {
        use_proxy: false,
        proxy_type: ["HTTPS With Credentials"],
        proxy: "p",
        state_machine_arn: "x",
      },
      [],
      ["proxy_type", "proxy", "proxy_ca_bundle_file", "proxy_credentials"],
      [],
    ],
    [
      "Monitor Execution: its own waiting fields, none of the start's",
      { action: ["Monitor Execution"], state_machine_arn: "x", wait_for_success_or_failure: true },
      [
        "target_execution_arn",
        "state_machine",
        "execution",
        "monitor_polling_interval",
        "monitor_maximum_wait",
        "stop_monitored_on_cancel",
      ],
      [
        "state_machine_arn",
        "input",
        "wait_for_success_or_failure",
        "polling_interval",
        "stop_execution_on_cancel",
        "task_token",
      ],
      [],
    ],
    [
      "Stop Execution: the ARN, error and cause",
      { action: ["Stop Execution"], target_execution_arn: "x" },
      ["target_execution_arn", "error", "cause"],
      [
        "state_machine_arn",
        "wait_for_success_or_failure",
        "monitor_polling_interval",
        "task_token",
      ],
      [],
    ],
    [
      "Redrive Execution waiting",
      {
        action: ["Redrive Execution"],
        target_execution_arn: "x",
        wait_for_success_or_failure: true,
      },
      [
        "target_execution_arn",
        "wait_for_success_or_failure",
        "polling_interval",
        "stop_execution_on_cancel",
      ],
      ["state_machine_arn", "rerun_behaviour", "error"],
      [],
    ],
    [
      "Start Synchronous Express Execution: no waiting fields",
      {
        action: ["Start Synchronous Express Execution"],
        state_machine_arn: "x",
        wait_for_success_or_failure: true,
      },
      ["state_machine_arn", "execution_name", "input"],
      [
        "wait_for_success_or_failure",
        "polling_interval",
        "rerun_behaviour",
        "target_execution_arn",
      ],
      [],
    ],
    [
      "Send Task Success: token and output",
      { action: ["Send Task Success"], state_machine_arn: "x" },
      ["task_token", "task_output"],
      ["state_machine_arn", "error", "cause", "target_execution_arn"],
      ["task_token"],
    ],
    [
      "Send Task Failure: token, error, cause",
      { action: ["Send Task Failure"], task_token: "t" },
      ["task_token", "error", "cause"],
      ["task_output", "state_machine_arn"],
      [],
    ],
    [
      "Send Task Heartbeat: the token only",
      { action: ["Send Task Heartbeat"], task_token: "t" },
      ["task_token"],
      ["task_output", "error", "cause", "state_machine_arn", "wait_for_success_or_failure"],
      [],
    ],
  ];
  for (const [title, entered, shown, hidden, missing] of cases) {
    test(title, () => {
      const form = evaluateForm(fields, entered);
      for (const name of shown) assert.ok(form.shown.has(name), `${name} should be shown`);
      for (const name of hidden) {
        assert.ok(!form.shown.has(name), `${name} should be hidden`);
        assert.equal(form.values[name], undefined, `hidden ${name} must not be sent`);
      }
      assert.deepEqual(form.missing, missing);
    });
  }

  test("the default polling interval arrives as a number when waiting", () => {
    const form = evaluateForm(fields, {
      wait_for_success_or_failure: true,
      state_machine_arn: "x",
    });
    assert.equal(form.values["polling_interval"], 10);
    assert.equal(form.values["stop_execution_on_cancel"], true);
  });

  test("output-only fields are shown but never sent", () => {
    const form = evaluateForm(fields, { execution_arn: "arn:x", state_machine_arn: "x" });
    assert.ok(form.shown.has("execution_arn"));
    assert.equal(form.values["execution_arn"], undefined);
  });
});

describe("evaluateForm rules on a synthetic form", () => {
  const base: TemplateField = {
    arrayNameTitle: null,
    arrayValueTitle: null,
    booleanNoValue: null,
    booleanValueType: "true/false",
    booleanYesValue: null,
    choiceAllowEmpty: false,
    choiceAllowMultiple: false,
    choiceDynamic: false,
    choiceFields: [],
    choiceSortOption: "Sequence",
    choices: [],
    defaultListView: false,
    fieldLength: null,
    fieldMapping: "",
    fieldRestriction: "No Restriction",
    fieldType: "Text",
    fieldValue: null,
    formColumnSpan: 1,
    formEndRow: true,
    formStartRow: true,
    hint: null,
    intFieldMax: null,
    intFieldMin: null,
    label: "",
    name: "",
    noSpaceIfHidden: false,
    preserveOutputOnRerun: false,
    preserveValueIfHidden: false,
    requireIfField: null,
    requireIfFieldValue: null,
    requireIfVisible: false,
    required: false,
    sequence: 0,
    showIfField: null,
    showIfFieldValue: null,
    sysId: null,
    textType: "Plain",
  };
  const form: TemplateField[] = [
    {
      ...base,
      name: "mode",
      sequence: 1,
      fieldType: "Choice",
      fieldMapping: "Choice Field 1",
      fieldValue: "a",
      choices: ["a", "b", "c"].map((v, i) => ({
        fieldValue: v,
        fieldValueLabel: v,
        sequence: i,
        sysId: null,
        useFieldValueForLabel: true,
      })),
    },
    {
      ...base,
      name: "kept",
      sequence: 2,
      fieldMapping: "Text Field 1",
      showIfField: "Choice Field 1",
      showIfFieldValue: "b",
      preserveValueIfHidden: true,
    },
    {
      ...base,
      name: "dropped",
      sequence: 3,
      fieldMapping: "Text Field 2",
      showIfField: "Choice Field 1",
      showIfFieldValue: "b,c",
    },
    {
      ...base,
      name: "needed",
      sequence: 4,
      fieldMapping: "Text Field 3",
      requireIfField: "Choice Field 1",
      requireIfFieldValue: "c",
    },
    {
      ...base,
      name: "always",
      sequence: 5,
      fieldMapping: "Text Field 4",
      required: true,
      showIfField: "Choice Field 1",
      showIfFieldValue: "c",
    },
  ];

  test("preserveValueIfHidden keeps a hidden value; others are dropped", () => {
    const state = evaluateForm(form, { kept: "k", dropped: "d" });
    assert.deepEqual(state.values, { mode: ["a"], kept: "k" });
  });

  test("a comma-separated list matches any of its values", () => {
    assert.ok(evaluateForm(form, { mode: ["b"] }).shown.has("dropped"));
    assert.ok(evaluateForm(form, { mode: ["c"] }).shown.has("dropped"));
    assert.ok(!evaluateForm(form, { mode: ["a"] }).shown.has("dropped"));
  });

  test("requireIfField requires a field whatever its own visibility", () => {
    assert.deepEqual(evaluateForm(form, { mode: ["c"] }).missing, ["needed", "always"]);
    assert.deepEqual(evaluateForm(form, { mode: ["b"] }).missing, []);
  });

  test("a required field is only required while shown", () => {
    assert.ok(!evaluateForm(form, { mode: ["a"] }).required.has("always"));
    assert.ok(evaluateForm(form, { mode: ["c"] }).required.has("always"));
  });

  test("empty values count as not set", () => {
    assert.equal(isSet(""), false);
    assert.equal(isSet([]), false);
    assert.equal(isSet({ user: "", password: "" }), false);
    assert.equal(isSet(false), true);
    assert.equal(isSet(0), true);
  });

  test("defaults take the runtime shape of their type", () => {
    assert.equal(parseDefault({ ...base, fieldType: "Integer", fieldValue: "10" }), 10);
    assert.equal(parseDefault({ ...base, fieldType: "Boolean", fieldValue: "false" }), false);
    assert.deepEqual(parseDefault({ ...base, fieldType: "Choice", fieldValue: "HTTP" }), ["HTTP"]);
    assert.equal(parseDefault({ ...base, fieldType: "Text", fieldValue: "" }), undefined);
  });
});

describe("the field-value schema agrees with the form rules", () => {
  // Every combination of the controlling values: the schema must demand exactly the
  // required-when-shown fields the form evaluator finds missing.
  const combos: FieldValues[] = [];
  for (const role of [true, false])
    for (const wait of [true, false])
      for (const proxy of [true, false])
        for (const type of ["HTTP", "HTTPS", "HTTPS With Credentials"])
          combos.push({
            role_based_access: role,
            wait_for_success_or_failure: wait,
            use_proxy: proxy,
            proxy_type: [type],
          });

  for (const entered of combos) {
    test(JSON.stringify(entered), () => {
      const form = evaluateForm(fields, entered);
      // Defaults applied by the form, nothing else: what the program receives.
      const valid = validateFields(form.values);
      const schemaMissing = (validateFields.errors ?? [])
        .filter((e) => e.keyword === "required")
        .map((e) => (e.params as { missingProperty: string }).missingProperty);
      assert.equal(valid, form.missing.length === 0);
      assert.deepEqual([...new Set(schemaMissing)].sort(), [...form.missing].sort());
    });
  }
});
