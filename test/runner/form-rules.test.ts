import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Template, TemplateField } from "../../src/fields/template-types.ts";
import { productTemplate } from "../helpers/fixture-package.ts";
import { type FixtureRunner, openFixtureRunner } from "../helpers/runner-fixture.ts";

const SM = "arn:aws:states:us-east-1:123456789012:stateMachine:hello";
const ROLE = "arn:aws:iam::123456789012:role/sfn";
const EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:hello:run-1";

/** The product template plus two test fields for the rules the product form does not use. */
async function templateWithEveryRule(): Promise<Template> {
  const template = await productTemplate();
  const base = template.fields.find((f) => f.name === "region") as TemplateField;
  const extra: TemplateField[] = [
    // Shown with Role Based Access, but its value is sent even when hidden.
    {
      ...base,
      name: "fixture_keep",
      label: "Kept Value",
      sequence: 90,
      fieldMapping: "Text Field 20",
      showIfField: "Boolean Field 1",
      showIfFieldValue: "true",
      preserveValueIfHidden: true,
    },
    // Always shown, required when Use Proxy is on.
    {
      ...base,
      name: "fixture_reason",
      label: "Proxy Reason",
      sequence: 91,
      fieldMapping: "Text Field 21",
      requireIfField: "Boolean Field 4",
      requireIfFieldValue: "true",
    },
  ];
  template.fields.push(...extra);
  return template;
}

describe("the form's rules decide what the program receives", () => {
  let f: FixtureRunner;
  before(async () => {
    f = await openFixtureRunner({}, { template: await templateWithEveryRule() });
  });
  after(() => f.close());

  // [case, entered fields, sent (name -> value), not sent, Start Failure problem]
  const cases: Array<
    [string, Record<string, unknown>, Record<string, unknown>, string[], RegExp?]
  > = [
    [
      "defaults come from fieldValue",
      { state_machine_arn: SM },
      {
        action: ["Start Asynchronous Execution"],
        use_proxy: false,
        rerun_behaviour: ["Start New Execution"],
      },
      ["polling_interval"],
    ],
    [
      "show-if: a hidden field's value is not sent",
      { state_machine_arn: SM, role_based_access: false, role_arn: ROLE },
      { role_based_access: false },
      ["role_arn", "role_external_id"],
    ],
    [
      "show-if: a shown field's value is sent",
      { state_machine_arn: SM, role_based_access: true, role_arn: ROLE },
      { role_arn: ROLE },
      [],
    ],
    [
      "show-if chain: shown fields take their defaults",
      { state_machine_arn: SM, wait_for_success_or_failure: true },
      {
        polling_interval: 10,
        maximum_wait: 0,
        maximum_wait_action: ["Stop Execution"],
        stop_execution_on_cancel: true,
      },
      [],
    ],
    [
      "show-if chain: hidden by a hidden controller",
      { state_machine_arn: SM, wait_for_success_or_failure: false, polling_interval: 5 },
      {},
      ["polling_interval", "maximum_wait", "stop_execution_on_cancel"],
    ],
    [
      "show-if value list: HTTPS shows the CA bundle",
      {
        state_machine_arn: SM,
        use_proxy: true,
        proxy: "https://p:3128",
        proxy_type: "HTTPS",
        proxy_ca_bundle_file: "/ca.pem",
        fixture_reason: "r",
      },
      { proxy_type: ["HTTPS"], proxy_ca_bundle_file: "/ca.pem" },
      ["proxy_credentials"],
    ],
    [
      "show-if value list: HTTP hides the CA bundle",
      {
        state_machine_arn: SM,
        use_proxy: true,
        proxy: "http://p:3128",
        proxy_ca_bundle_file: "/ca.pem",
        fixture_reason: "r",
      },
      { proxy_type: ["HTTP"] },
      ["proxy_ca_bundle_file"],
    ],
    [
      "hidden credentials are not sent",
      {
        state_machine_arn: SM,
        use_proxy: false,
        proxy_type: "HTTPS With Credentials",
        proxy_credentials: { $credential: "local-test" },
      },
      {},
      ["proxy_type", "proxy_credentials"],
    ],
    [
      "a hidden field's value is not checked: Polling Interval 0 without waiting",
      { state_machine_arn: SM, polling_interval: 0 },
      {},
      ["polling_interval"],
    ],
    [
      "hidden values of the wrong type or choice are not checked either",
      {
        state_machine_arn: SM,
        wait_for_success_or_failure: false,
        maximum_wait: "soon",
        use_proxy: false,
        proxy_type: "SOCKS",
      },
      {},
      ["maximum_wait", "proxy_type"],
    ],
    [
      "a shown field's value is checked",
      { state_machine_arn: SM, wait_for_success_or_failure: true, polling_interval: 0 },
      {},
      [],
      /Polling Interval \(polling_interval\): expected at least 1, got 0/,
    ],
    [
      "preserveValueIfHidden: a hidden value that is sent is checked",
      { state_machine_arn: SM, role_based_access: false, fixture_keep: { not: "text" } },
      {},
      [],
      /Kept Value \(fixture_keep\): expected text/,
    ],
    [
      "preserveValueIfHidden: sent although hidden",
      { state_machine_arn: SM, role_based_access: false, fixture_keep: "kept" },
      { fixture_keep: "kept" },
      [],
    ],
    [
      "requireIfField: satisfied",
      { state_machine_arn: SM, use_proxy: true, proxy: "http://p:3128", fixture_reason: "audit" },
      { fixture_reason: "audit" },
      [],
    ],
    [
      "requireIfVisible: not required while hidden",
      { state_machine_arn: SM, role_based_access: false },
      {},
      ["role_arn"],
    ],
    [
      "requireIfVisible: required once shown",
      { state_machine_arn: SM, role_based_access: true },
      {},
      [],
      /Role ARN \(role_arn\): required/,
    ],
    [
      "required when shown: task token",
      { action: "Send Task Heartbeat" },
      {},
      [],
      /Task Token \(task_token\): required/,
    ],
    [
      "requireIfField: missing",
      { state_machine_arn: SM, use_proxy: true, proxy: "http://p:3128" },
      {},
      [],
      /Proxy Reason \(fixture_reason\): required/,
    ],
    [
      "required when shown: proxy credentials",
      {
        state_machine_arn: SM,
        use_proxy: true,
        proxy: "https://p",
        proxy_type: "HTTPS With Credentials",
        fixture_reason: "r",
      },
      {},
      [],
      /Proxy Credentials \(proxy_credentials\): required/,
    ],
    [
      "an action's own fields: Monitor Execution sends its settings, not the start's",
      {
        action: "Monitor Execution",
        target_execution_arn: EXECUTION,
        state_machine_arn: SM,
        wait_for_success_or_failure: true,
        polling_interval: 5,
      },
      {
        target_execution_arn: EXECUTION,
        monitor_polling_interval: 10,
        monitor_maximum_wait: 0,
        stop_monitored_on_cancel: false,
      },
      ["state_machine_arn", "wait_for_success_or_failure", "polling_interval", "task_token"],
    ],
    [
      "required when shown: the task token of Send Task Success",
      { action: "Send Task Success", state_machine_arn: SM },
      {},
      [],
      /Task Token \(task_token\): required/,
    ],
  ];
  test("a hidden value refused by its type is reported as not sent, like any hidden value", async () => {
    const dropped: string[] = [];
    const stop = f.runner.subscribe((e) => {
      if (e.type === "task-started" && e.task.name === "hidden-bad") dropped.push(...e.dropped);
    });

    const result = await f.runner.launch({
      name: "hidden-bad",
      fields: { state_machine_arn: SM, polling_interval: 0, proxy_type: "SOCKS" },
    }).result;
    stop();

    assert.equal(result.state, "Success", result.problems.join("; "));
    assert.deepEqual(dropped.sort(), ["polling_interval", "proxy_type"]);
  });

  cases.forEach(([name, fields, sent, notSent, failure], index) => {
    test(name, async () => {
      const taskName = `rule-${index}`;
      const result = await f.runner.launch({ name: taskName, fields }).result;
      if (failure) {
        assert.equal(result.state, "Start Failure");
        assert.ok(
          result.problems.some((p) => failure.test(p)),
          result.problems.join("; "),
        );
        return;
      }
      assert.equal(result.state, "Success", result.problems.join("; "));
      const got = (await f.received(taskName, 1)).fields;
      for (const [field, value] of Object.entries(sent)) assert.deepEqual(got[field], value, field);
      for (const field of notSent) assert.ok(!(field in got), `${field} must not be sent`);
    });
  });
});
