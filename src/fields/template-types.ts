/** The shape of the controller's template export, as far as this product uses it. */

export interface TemplateChoice {
  fieldValue: string;
  fieldValueLabel: string | null;
  sequence: number;
  useFieldValueForLabel: boolean;
}

export interface TemplateField {
  name: string;
  label: string;
  hint: string | null;
  sequence: number;
  fieldType: string;
  fieldMapping: string;
  fieldValue: string | null;
  fieldLength: number | null;
  required: boolean;
  requireIfVisible: boolean;
  requireIfField: string | null;
  requireIfFieldValue: string | null;
  showIfField: string | null;
  showIfFieldValue: string | null;
  noSpaceIfHidden: boolean;
  preserveValueIfHidden: boolean;
  fieldRestriction: "No Restriction" | "Output Only";
  preserveOutputOnRerun: boolean;
  choices: TemplateChoice[] | null;
  intFieldMin: number | null;
  intFieldMax: number | null;
  textType: string | null;
  allowMultipleChoices: boolean;
  allowEmptyChoice: boolean;
  defaultListView: boolean;
  sysId: string | null;
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
}

export type FieldValues = Record<string, FieldValue>;
