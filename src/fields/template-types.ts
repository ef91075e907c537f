/** The shape of the controller's template export, as far as this product uses it. */

export interface TemplateChoice {
  fieldValue: string;
  fieldValueLabel: string | null;
  sequence: number;
  sysId: string | null;
  useFieldValueForLabel: boolean;
}

/** One field of the export, with every key a real export carries (keys in export order). */
export interface TemplateField {
  arrayNameTitle: string | null;
  arrayValueTitle: string | null;
  booleanNoValue: string | null;
  booleanValueType: string;
  booleanYesValue: string | null;
  choiceAllowEmpty: boolean;
  choiceAllowMultiple: boolean;
  choiceDynamic: boolean;
  choiceFields: string[];
  choiceSortOption: string;
  choices: TemplateChoice[];
  defaultListView: boolean;
  fieldLength: number | null;
  fieldMapping: string;
  fieldRestriction: "No Restriction" | "Output Only";
  fieldType: string;
  /** The default as the form holds it: a string (Booleans "true" / "false"), or null. */
  fieldValue: string | null;
  formColumnSpan: number;
  formEndRow: boolean;
  formStartRow: boolean;
  hint: string | null;
  intFieldMax: number | null;
  intFieldMin: number | null;
  label: string;
  name: string;
  noSpaceIfHidden: boolean;
  preserveOutputOnRerun: boolean;
  preserveValueIfHidden: boolean;
  requireIfField: string | null;
  requireIfFieldValue: string | null;
  requireIfVisible: boolean;
  required: boolean;
  sequence: number;
  showIfField: string | null;
  showIfFieldValue: string | null;
  sysId: string | null;
  textType: string;
}

export interface Template {
  name: string;
  description: string;
  templateType: "Extension";
  extension: string;
  variablePrefix: string;
  agentType: string;
  fields: TemplateField[];
  [key: string]: unknown;
}

/** A field value in its runtime shape (SPEC 3.2). */
export type FieldValue = string | number | boolean | string[] | CredentialValue;

export interface CredentialValue {
  user: string;
  password: string;
  /** The AWS session token of temporary keys (AWS Credentials only; set only when given). */
  token?: string;
}

export type FieldValues = Record<string, FieldValue>;
