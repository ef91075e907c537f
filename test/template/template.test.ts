import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Ajv } from "ajv";
import type { Template } from "../../src/fields/template-types.ts";
import { ROOT } from "../helpers/paths.ts";

const template = JSON.parse(
  await readFile(join(ROOT, "template/template.json"), "utf8"),
) as Template;
const schema = JSON.parse(await readFile(join(ROOT, "schemas/template.schema.json"), "utf8"));
const byName = new Map(template.fields.map((f) => [f.name, f]));
const byMapping = new Map(template.fields.map((f) => [f.fieldMapping, f]));

function field(name: string) {
  const f = byName.get(name);
  assert.ok(f, `template has no field ${name}`);
  return f;
}

describe("template.json", () => {
  test("validates against schemas/template.schema.json", () => {
    const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
      schema,
    );
    assert.ok(validate(template), JSON.stringify(validate.errors, null, 2));
  });

  test("the schema rejects what the controller would reject", () => {
    const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
      schema,
    );
    const bad = [
      (t: Template) => {
        t.fields[0]!.name = "1starts_with_digit";
      },
      (t: Template) => {
        t.fields[0]!.name = "a_name_that_is_longer_than_28_chars";
      },
      (t: Template) => {
        t.fields[0]!.fieldMapping = "Text Field";
      },
      (t: Template) => {
        t.fields[0]!.fieldValue = 10 as unknown as string;
      },
      (t: Template) => {
        delete (t.fields[0] as Partial<(typeof t.fields)[0]>).showIfField;
      },
      (t: Template) => {
        t.templateType = "Script" as "Extension";
      },
    ];
    for (const mutate of bad) {
      const copy = structuredClone(template);
      mutate(copy);
      assert.equal(validate(copy), false, `accepted: ${mutate.toString()}`);
    }
  });

  test("has the controller's top-level settings", () => {
    assert.equal(template.templateType, "Extension");
    assert.equal(template.extension, "ue-aws-stepfunctions");
    assert.equal(template["exitCodeProcessing"], "Success Exitcode Range");
    assert.equal(template["exitCodes"], "0");
  });

  test("uses each field name and each fieldMapping slot once", () => {
    assert.equal(byName.size, template.fields.length);
    assert.equal(byMapping.size, template.fields.length);
    for (const f of template.fields) {
      const type = f.fieldMapping.replace(/ Field \d+$/, "");
      assert.equal(type, f.fieldType, `${f.name} maps to a ${type} slot`);
    }
  });

  test("every rule names an existing field's mapping, with values it can take", () => {
    for (const f of template.fields) {
      for (const [ref, values] of [
        [f.showIfField, f.showIfFieldValue],
        [f.requireIfField, f.requireIfFieldValue],
      ] as const) {
        if (ref === null) continue;
        const controller = byMapping.get(ref);
        assert.ok(controller, `${f.name} refers to unknown mapping ${ref}`);
        const allowed =
          controller.fieldType === "Boolean"
            ? ["true", "false"]
            : (controller.choices ?? []).map((c) => c.fieldValue);
        for (const v of (values ?? "").split(","))
          assert.ok(allowed.includes(v), `${f.name}: ${v}`);
      }
    }
  });

  const core: Array<[string, string, string | null, boolean]> = [
    // name, fieldType, default, required
    ["action", "Choice", "Start Asynchronous Execution", true],
    ["region", "Text", null, false],
    ["credentials", "Credential", null, false],
    ["role_based_access", "Boolean", "false", false],
    ["role_arn", "Text", null, false],
    ["state_machine_arn", "Text", null, false],
    ["execution_name", "Text", null, false],
    ["input", "Script", null, false],
    ["wait_for_success_or_failure", "Boolean", "false", false],
    ["polling_interval", "Integer", "10", false],
    ["use_proxy", "Boolean", "false", false],
    ["proxy_type", "Choice", "HTTP", false],
    ["proxy", "Text", null, false],
    ["proxy_ca_bundle_file", "Text", null, false],
    ["proxy_credentials", "Credential", null, false],
  ];
  for (const [name, type, fieldValue, required] of core) {
    test(`core field ${name}: ${type}, default ${fieldValue}`, () => {
      const f = field(name);
      assert.equal(f.fieldType, type);
      assert.equal(f.fieldValue, fieldValue);
      assert.equal(f.required, required);
      assert.equal(f.fieldRestriction, "No Restriction");
    });
  }

  test("proxy types are the three the SPEC names", () => {
    assert.deepEqual(
      field("proxy_type").choices?.map((c) => c.fieldValue),
      ["HTTP", "HTTPS", "HTTPS With Credentials"],
    );
  });

  for (const name of ["execution_arn", "execution_status", "generated_execution_name"]) {
    test(`output-only field ${name}`, () => {
      assert.equal(field(name).fieldRestriction, "Output Only");
      assert.equal(field(name).fieldType, "Text");
    });
  }

  const rules: Array<[string, string, string, boolean]> = [
    // field, controlling field, value(s), required when shown
    ["role_arn", "role_based_access", "true", true],
    [
      "state_machine_arn",
      "action",
      "Start Asynchronous Execution,Start Synchronous Express Execution",
      true,
    ],
    ["target_execution_arn", "action", "Monitor Execution,Stop Execution,Redrive Execution", true],
    ["task_token", "action", "Send Task Success,Send Task Failure,Send Task Heartbeat", true],
    ["task_output", "action", "Send Task Success", false],
    ["error", "action", "Stop Execution,Send Task Failure", false],
    ["monitor_polling_interval", "action", "Monitor Execution", true],
    [
      "wait_for_success_or_failure",
      "action",
      "Start Asynchronous Execution,Redrive Execution",
      false,
    ],
    ["polling_interval", "wait_for_success_or_failure", "true", true],
    ["proxy_type", "use_proxy", "true", true],
    ["proxy", "use_proxy", "true", true],
    ["proxy_ca_bundle_file", "proxy_type", "HTTPS,HTTPS With Credentials", false],
    ["proxy_credentials", "proxy_type", "HTTPS With Credentials", true],
  ];
  for (const [name, controller, values, requiredWhenShown] of rules) {
    test(`${name} is shown when ${controller} is ${values}`, () => {
      const f = field(name);
      assert.equal(f.showIfField, field(controller).fieldMapping);
      assert.equal(f.showIfFieldValue, values);
      assert.equal(f.requireIfVisible, requiredWhenShown);
    });
  }
});
