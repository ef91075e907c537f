import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Ajv } from "ajv";
import type { Template } from "../../src/fields/template-types.ts";
import {
  DYNAMIC_CHOICE_FACTS,
  EXPORT_KEYS,
  type KeyTypes,
  realExport,
} from "../helpers/controller-export.ts";
import { ROOT } from "../helpers/paths.ts";

type JsonObject = Record<string, unknown>;
type SchemaNode = JsonObject & { properties?: Record<string, JsonObject> };

const template = JSON.parse(
  await readFile(join(ROOT, "template/template.json"), "utf8"),
) as Template;
const schema = JSON.parse(
  await readFile(join(ROOT, "schemas/template.schema.json"), "utf8"),
) as SchemaNode & { definitions: Record<string, SchemaNode> };

function compileSchema() {
  return new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return Number.isInteger(value) ? "integer" : typeof value;
}

/** The non-null JSON types each key takes across a list of objects. */
function typesByKey(objects: ReadonlyArray<JsonObject>): Map<string, Set<string>> {
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

/** Keys whose value type is not one a real export shows (where it shows one). */
function typeMismatches(objects: ReadonlyArray<JsonObject>, expected: KeyTypes): string[] {
  const problems: string[] = [];
  for (const [key, types] of typesByKey(objects)) {
    const allowed: readonly string[] = expected[key] ?? [];
    if (allowed.length === 0) continue;
    for (const t of types)
      if (!allowed.includes(t)) problems.push(`${key}: ${t}, real export: ${allowed.join("/")}`);
  }
  return problems;
}

/** The non-null JSON types a schema node admits (type, enum, const, $ref, anyOf). */
function schemaTypes(node: JsonObject): Set<string> {
  const ref = node["$ref"];
  if (typeof ref === "string") {
    return schemaTypes(schema.definitions[ref.replace("#/definitions/", "")] ?? {});
  }
  const types = new Set<string>();
  const type = node["type"];
  for (const t of Array.isArray(type) ? type : type === undefined ? [] : [type]) types.add(t);
  for (const v of (node["enum"] as unknown[] | undefined) ?? []) types.add(jsonType(v));
  if ("const" in node) types.add(jsonType(node["const"]));
  for (const branch of (node["anyOf"] as JsonObject[] | undefined) ?? [])
    for (const t of schemaTypes(branch)) types.add(t);
  types.delete("null");
  return types;
}

const fields = template.fields as unknown as JsonObject[];
const choicesOf = (list: ReadonlyArray<JsonObject>) =>
  list.flatMap((f) => f["choices"] as JsonObject[]);
const commandsOf = (t: JsonObject) => t["commands"] as JsonObject[];

/** Each level of an export: the schema node, the recorded keys, and where to find objects. */
const LEVELS = [
  ["template", schema, (t: JsonObject) => [t]],
  ["field", schema.definitions["field"], (t: JsonObject) => t["fields"] as JsonObject[]],
  [
    "choice",
    schema.definitions["choice"],
    (t: JsonObject) => choicesOf(t["fields"] as JsonObject[]),
  ],
  ["command", schema.definitions["command"], commandsOf],
] as const;

const byName = new Map(template.fields.map((f) => [f.name, f]));
const byMapping = new Map(template.fields.map((f) => [f.fieldMapping, f]));

function field(name: string) {
  const f = byName.get(name);
  assert.ok(f, `template has no field ${name}`);
  return f;
}

describe("template.json", () => {
  test("validates against schemas/template.schema.json", () => {
    const validate = compileSchema();
    assert.ok(validate(template), JSON.stringify(validate.errors, null, 2));
  });

  for (const [level, node, objectsOf] of LEVELS) {
    test(`the schema requires exactly a real export's ${level} keys, and no other`, () => {
      const recorded = Object.keys(EXPORT_KEYS[level]).sort();
      assert.ok(node, `the schema defines no ${level}`);
      assert.equal(node["additionalProperties"], false);
      assert.deepEqual([...((node["required"] as string[]) ?? [])].sort(), recorded);
      assert.deepEqual(Object.keys(node.properties ?? {}).sort(), recorded);
    });

    test(`the schema's ${level} value types are ones a real export shows`, () => {
      const problems: string[] = [];
      for (const [key, property] of Object.entries(node?.properties ?? {})) {
        const seen: readonly string[] = EXPORT_KEYS[level][key] ?? [];
        const declared = schemaTypes(property);
        if (declared.size === 0) problems.push(`${key}: no type declared`);
        if (seen.length === 0) continue;
        for (const t of declared)
          if (!seen.includes(t)) problems.push(`${key}: ${t}, real export: ${seen.join("/")}`);
      }
      assert.deepEqual(problems, []);
    });

    test(`every ${level} of the template carries exactly those keys, with those types`, () => {
      const objects = objectsOf(template as unknown as JsonObject);
      const recorded = Object.keys(EXPORT_KEYS[level]).sort();
      for (const o of objects) assert.deepEqual(Object.keys(o).sort(), recorded, String(o["name"]));
      assert.deepEqual(typeMismatches(objects, EXPORT_KEYS[level]), []);
    });
  }

  test("the template has choices to check (the choice-level checks are not empty)", () => {
    assert.ok(choicesOf(fields).length > 0);
  });

  describe("against a real controller export, where one is at hand", () => {
    const found = realExport("aws-m2.template.json");

    test("the schema accepts the real export, so it cannot drift from reality", async (t) => {
      if ("skip" in found) return t.skip(found.skip);
      const real = JSON.parse(await readFile(found.path, "utf8")) as JsonObject;
      const validate = compileSchema();
      assert.ok(validate(real), JSON.stringify(validate.errors, null, 2));
    });

    test("the recorded keys and types are the real export's", async (t) => {
      if ("skip" in found) return t.skip(found.skip);
      const real = JSON.parse(await readFile(found.path, "utf8")) as JsonObject;
      for (const [level, , objectsOf] of LEVELS) {
        const seen = Object.fromEntries(
          [...typesByKey(objectsOf(real))].map(([k, types]) => [k, [...types].sort()]),
        );
        const recorded = Object.fromEntries(
          Object.entries(EXPORT_KEYS[level]).map(([k, types]) => [k, [...types].sort()]),
        );
        assert.deepEqual(recorded, seen, level);
      }
    });
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
    // Not required by the form: the typed ARN or the picker's value (the program checks).
    [
      "state_machine_arn",
      "action",
      "Start Asynchronous Execution,Start Synchronous Express Execution",
      false,
    ],
    ["target_execution_arn", "action", "Monitor Execution,Stop Execution,Redrive Execution", false],
    [
      "state_machine",
      "action",
      "Start Asynchronous Execution,Start Synchronous Express Execution,Monitor Execution,Stop Execution,Redrive Execution",
      false,
    ],
    ["execution", "action", "Monitor Execution,Stop Execution,Redrive Execution", false],
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

describe("Dynamic Choice fields (the pickers), as a real 7.8 export writes them", () => {
  const dynamic = template.fields.filter((f) => f.choiceDynamic);
  // [field, the fields its choice command needs, by name]
  const connection = [
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
  const expected: Array<[string, string[]]> = [
    ["state_machine", connection],
    ["execution", ["action", ...connection, "state_machine"]],
  ];

  test("exactly the two pickers are dynamic; every other field keeps choiceFields empty", () => {
    assert.deepEqual(
      dynamic.map((f) => f.name),
      expected.map(([name]) => name),
    );
    for (const f of template.fields.filter((x) => !x.choiceDynamic))
      assert.deepEqual(f.choiceFields, [], f.name);
  });

  for (const [name, needs] of expected) {
    test(`${name}: the recorded keys, and choiceFields names by slot what the command needs`, () => {
      const f = field(name) as unknown as JsonObject;
      for (const [key, value] of Object.entries(DYNAMIC_CHOICE_FACTS.fixed))
        assert.deepEqual(f[key], value, `${name}.${key}`);
      const slots = f["choiceFields"] as string[];
      for (const slot of slots) assert.match(slot, DYNAMIC_CHOICE_FACTS.choiceFieldEntry);
      assert.deepEqual(
        slots.map((slot) => byMapping.get(slot)?.name),
        needs,
      );
    });
  }

  test("the recorded facts are those of the real 7.8 export's three Dynamic Choice fields", async (t) => {
    const found = realExport("vcenter-7.8.template.json");
    if ("skip" in found) return t.skip(found.skip);
    const real = JSON.parse(await readFile(found.path, "utf8")) as { fields: JsonObject[] };
    const realDynamic = real.fields.filter((f) => f["choiceDynamic"] === true);
    assert.equal(realDynamic.length, 3);
    const realMappings = new Set(real.fields.map((f) => f["fieldMapping"]));
    for (const f of realDynamic) {
      for (const [key, value] of Object.entries(DYNAMIC_CHOICE_FACTS.fixed))
        assert.deepEqual(f[key], value, `${String(f["name"])}.${key}`);
      for (const slot of f["choiceFields"] as string[]) {
        assert.match(slot, DYNAMIC_CHOICE_FACTS.choiceFieldEntry);
        assert.ok(realMappings.has(slot), `${slot} is a field of the real export`);
      }
    }
  });
});
