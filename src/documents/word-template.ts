/**
 * PopulateWordTemplate: fills a .docx template with JSON data through docxtemplater.
 *
 * Template syntax (docxtemplater's, documented for makers in the connector):
 *   {name}                      a field; missing fields print nothing
 *   {customer.name}             a nested field (dots walk into objects)
 *   {.}                         the current element inside a loop over plain values
 *   {#items}…{/items}           repeats for each element of a list (paragraph or table row)
 *   {#paid}…{/paid}             shown when `paid` is truthy (or a non-empty list)
 *   {^paid}…{/paid}             shown when `paid` is falsy, missing or an empty list
 * Line breaks in values become line breaks in Word (`linebreaks`), and a loop written on its
 * own paragraph does not leave empty paragraphs behind (`paragraphLoop`).
 */
import Docxtemplater from 'docxtemplater';
import PizZip from 'pizzip';
import { type DocumentLimits, defaultDocumentLimits } from '../config.js';
import { type AppError, validationFailed, type FieldError } from '../errors/catalogue.js';
import { checkZipExpansion, tooComplex } from './caps.js';
import { describeFileType, looksLikeZip, sniffFileType } from './file-type.js';

export interface TemplatePaths {
  template?: string;
  data?: string;
}

/**
 * Returns the populated document. `data` must be a JSON object, or a string holding one
 * (Power Automate's Compose often hands JSON over as text).
 */
export function populateWordTemplate(template: Buffer, data: unknown, paths: TemplatePaths = {}, limits: DocumentLimits = defaultDocumentLimits()): Buffer {
  const templatePath = paths.template ?? 'template';
  const values = checkData(data, paths.data ?? 'data');
  checkZipExpansion(template, limits, 'The template');
  const zip = openDocx(template, templatePath);
  const budget = fieldBudget(limits);

  let doc: Docxtemplater;
  try {
    doc = new Docxtemplater(zip, {
      paragraphLoop: true,
      linebreaks: true,
      errorLogging: false,
      // Characters such as U+0001 are illegal in XML and would corrupt the document.
      stripInvalidXMLChars: true,
      // docxtemplater prints "undefined" for a missing field; an empty field is what people expect.
      nullGetter: () => '',
      parser: budget.parser,
    });
    doc.render(values);
  } catch (error) {
    if (budget.exceeded) throw budget.exceeded;
    throw templateError(error, templatePath);
  }
  return doc.toBuffer({ compression: 'DEFLATE' });
}

/** Fields filled in per MiB of DOC_MAX_EXPANDED_MB: loops within loops multiply, and each field filled is output. */
const FIELDS_PER_MIB = 5_000;

/**
 * The loop-expansion budget, counted while rendering: every field looked up (in every
 * repetition of every loop) spends one; past the budget rendering stops at once, long
 * before nested loops over modest lists build gigabytes of XML.
 */
function fieldBudget(limits: DocumentLimits): { parser: typeof dottedPathParser; exceeded: AppError | null } {
  const max = Math.max(1000, Math.floor((limits.maxExpandedBytes / (1024 * 1024)) * FIELDS_PER_MIB));
  let used = 0;
  const state = {
    exceeded: null as AppError | null,
    parser(tag: string) {
      const inner = dottedPathParser(tag);
      return {
        get(scope: unknown) {
          if (++used > max) {
            state.exceeded ??= tooComplex(
              `The template's loops expand to more than ${max} fields with this data; at most ${max} are filled per document (from DOC_MAX_EXPANDED_MB). Send less data or fewer nested loops per call.`,
              { limit: 'DOC_MAX_EXPANDED_MB', limitFields: max },
            );
            throw state.exceeded;
          }
          return inner.get(scope);
        },
      };
    },
  };
  return state;
}

/**
 * docxtemplater's default parser looks a tag up as one literal key; flows hand over nested
 * JSON, so `{customer.name}` walks into objects. Only own properties are read, so a tag
 * such as {constructor} cannot reach JavaScript internals. Returning undefined lets
 * docxtemplater try the enclosing loop scopes, as it does by default.
 */
function dottedPathParser(tag: string): { get(scope: unknown): unknown } {
  const trimmed = tag.trim();
  if (trimmed === '.' || trimmed === '') return { get: (scope) => scope };
  const steps = trimmed.split('.').map((step) => step.trim());
  return {
    get(scope) {
      // A key that itself contains dots ("customer.name") wins over the nested walk.
      if (scope !== null && typeof scope === 'object' && Object.hasOwn(scope, trimmed)) {
        return (scope as Record<string, unknown>)[trimmed];
      }
      let value: unknown = scope;
      for (const step of steps) {
        if (value === null || typeof value !== 'object' || !Object.hasOwn(value, step)) return undefined;
        value = (value as Record<string, unknown>)[step];
      }
      return value;
    },
  };
}

function checkData(data: unknown, path: string): Record<string, unknown> {
  let value = data;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (error) {
      throw validationFailed(
        [{ path, message: 'is text that is not valid JSON' }],
        `The template data is text but not valid JSON (${(error as Error).message}). Send a JSON object such as {"name": "Ada", "items": [{"product": "Pen"}]}.`,
      );
    }
  }
  if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) {
    const got = Array.isArray(value) ? 'a list' : value == null ? 'nothing' : `a ${typeof value}`;
    throw validationFailed(
      [{ path, message: 'must be a JSON object' }],
      `The template data must be a JSON object whose keys are the template's field names, e.g. {"name": "Ada"}; ${got} was received. To repeat a list, wrap it: {"items": [...]} with {#items}…{/items} in the template.`,
    );
  }
  return value as Record<string, unknown>;
}

function openDocx(bytes: Buffer, path: string): PizZip {
  const notDocx = (kind: string): never => {
    throw validationFailed(
      [{ path, message: `is not a Word .docx file (it looks like ${kind})` }],
      `The template is not a Word document (.docx): it looks like ${kind}. Pass the content of a .docx file; old .doc files must be saved as .docx first.`,
    );
  };
  if (!looksLikeZip(bytes)) notDocx(describeFileType(sniffFileType(bytes)));
  let zip: PizZip;
  try {
    zip = new PizZip(bytes);
  } catch {
    return notDocx('a damaged ZIP archive');
  }
  if (!zip.file('word/document.xml')) notDocx(describeFileType(sniffFileType(bytes)));
  return zip;
}

interface XtError {
  message?: string;
  properties?: {
    id?: string;
    explanation?: string;
    xtag?: string;
    errors?: XtError[];
  };
}

/** What to do about each docxtemplater error, in a maker's words. */
const HINTS: Record<string, string> = {
  unclosed_tag: 'add the missing "}"',
  unopened_tag: 'add the missing "{" or remove the stray "}"',
  duplicate_open_tag: 'use single braces, {name} rather than {{name}}',
  duplicate_close_tag: 'use single braces, {name} rather than {{name}}',
  unclosed_loop: 'close the section with {/name} after the part that repeats',
  unopened_loop: 'open the section with {#name} (or {^name}) before its {/name}',
  closing_tag_does_not_match_opening_tag: 'close each {#name} with {/name} of the same name, innermost first',
  unbalanced_loop_tags: 'close sections in the reverse order they were opened',
  loop_position_invalid: 'put the opening and closing tags of a section in the same table, or both outside tables',
  malformed_xml: 'the document itself is damaged; open and re-save it in Word',
  file_has_invalid_xml: 'the document itself is damaged; open and re-save it in Word',
};

function templateError(error: unknown, path: string): Error {
  const top = error as XtError;
  if (!top?.properties?.id) {
    const reason = error instanceof Error ? error.message : String(error);
    return validationFailed(
      [{ path, message: `could not be read as a Word template: ${reason}` }],
      `The template could not be read as a Word document (${reason}). Open it in Word, save it as .docx and try again.`,
    );
  }
  const list = top.properties.id === 'multi_error' && top.properties.errors?.length ? top.properties.errors : [top];
  const errors: FieldError[] = list.map((item) => {
    const id = item.properties?.id ?? 'template_error';
    const explanation = item.properties?.explanation ?? item.message ?? 'unknown template error';
    const hint = HINTS[id];
    return { path, message: hint ? `${explanation}: ${hint}` : explanation };
  });
  const summary = errors.map((e) => e.message).join('; ');
  const count = errors.length === 1 ? 'a problem' : `${errors.length} problems`;
  return validationFailed(
    errors,
    `The Word template has ${count}: ${summary}. Fields are written {name}, repeated sections {#items}…{/items}, conditions {#paid}…{/paid} or {^paid}…{/paid}.`,
  );
}
