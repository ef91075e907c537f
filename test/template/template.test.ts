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
/** A real controller export of an Extension template: the ground truth for keys and types. */
const REAL_EXPORT = join(ROOT, "..", "shared", "reference", "real-exports", "aws-m2.template.json");
const real = JSON.parse(await readFile(REAL_EXPORT, "utf8")) as Record<string, unknown> & {
  fields: Array<Record<string, unknown>>;
};

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return Number.isInteger(value) ? "integer" : typeof value;
}

/** The non-null JSON types each key takes across a list of objects. */
function typesByKey(objects: ReadonlyArray<Record<string, unknown>>): Map<string, Set<string>> {
  const types = new Map<string, Set<string>>();
  for (const o of objects) {
    for (const [k, v] of Object.entries(o)) {
      const set = types.get(k) ?? new Set<string>();
      if (v !== null) set.add(jsonType(v));
      types.set(k, set);
    }
  }
  return types;
}

/** Keys whose value type differs from the real export's (where the export shows one). */
function typeMismatches(
  ours: ReadonlyArray<Record<string, unknown>>,
  theirs: ReadonlyArray<Record<string, unknown>>,
): string[] {
  const expected = typesByKey(theirs);
  const problems: string[] = [];
  for (const [key, types] of typesByKey(ours)) {
    const allowed = expected.get(key);
    if (!allowed || allowed.size === 0) continue;
    for (const t of types)
      if (!allowed.has(t)) problems.push(`${key}: ${t}, real export: ${[...allowed].join("/")}`);
  }
  return problems;
}
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

  test("the schema also accepts the real controller export, so it cannot drift from reality", () => {
    const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
      schema,
    );
    assert.ok(validate(real), JSON.stringify(validate.errors, null, 2));
  });

  test("carries exactly the real export's template keys, with its value types", () => {
    const ours = template as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(ours).sort(), Object.keys(real).sort());
    assert.deepEqual(typeMismatches([ours], [real]), []);
  });

  test("every field carries exactly the real export's field keys, with its value types", () => {
    const realKeys = [...new Set(real.fields.flatMap((f) => Object.keys(f)))].sort();
    const fields = template.fields as unknown as Array<Record<string, unknown>>;
    for (const f of fields) assert.deepEqual(Object.keys(f).sort(), realKeys, String(f["name"]));
    assert.deepEqual(typeMismatches(fields, real.fields), []);
    const choices = (list: Array<Record<string, unknown>>) =>
      list.flatMap((f) => f["choices"] as Array<Record<string, unknown>>);
    const realChoiceKeys = [...new Set(choices(real.fields).flatMap((c) => Object.keys(c)))].sort();
    for (const c of choices(fields)) assert.deepEqual(Object.keys(c).sort(), realChoiceKeys);
    assert.deepEqual(typeMismatches(choices(fields), choices(real.fields)), []);
  });

  test("the real export's forms the controller requires: release levels, output, icon", async () => {
    const t = template as unknown as Record<string, unknown>;
    for (const key of ["minReleaseLevel", "exportReleaseLevel"]) {
      assert.match(String(t[key]), /^\d+\.\d+\.\d+\.\d+$/, key);
    }
    assert.equal(t["outputReturnType"], "OUTERR");
    assert.equal(t["sendVariables"], "None");
    const icon = await readFile(join(ROOT, "template", String(t["iconFilename"])));
    assert.equal(t["iconFilesize"], icon.length);
    assert.equal(icon.readUInt32BE(16), 48, "icon width");
    assert.equal(icon.readUInt32BE(20), 48, "icon height");
  });

  test("sysIds are derived from names: stable, distinct, 32 hex digits", async () => {
    const { buildTemplate } = await import("../../build/generators.ts");
    const again = buildTemplate({ size: 1 });
    const ids = [
      template.sysId,
      ...template.fields.flatMap((f) => [f.sysId, ...f.choices.map((c) => c.sysId)]),
    ];
    assert.ok(ids.every((id) => typeof id === "string" && /^[0-9a-f]{32}$/.test(id)));
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual(
      again.fields.map((f) => f.sysId),
      template.fields.map((f) => f.sysId),
    );
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
      (t: Template) => {
        t["sendVariables"] = false;
      },
      (t: Template) => {
        t["minReleaseLevel"] = "7.2";
      },
      (t: Template) => {
        t["automaticOutputRetrieval"] = "STDERR";
      },
      (t: Template) => {
        (t.fields[0] as unknown as Record<string, unknown>)["allowMultipleChoices"] = false;
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
