/**
 * The formats ConvertToPdf accepts, how LibreOffice should open each, and a check that the
 * bytes match the declared format. Without that check LibreOffice happily "converts" a PDF
 * declared as .docx into pages of binary garbage, and the maker never learns why.
 */
import { validationFailed } from '../errors/catalogue.js';
import { describeFileType, type SniffedType } from './file-type.js';

export const SOURCE_FORMATS = ['docx', 'doc', 'odt', 'rtf', 'txt', 'html', 'xlsx', 'xls', 'ods', 'csv', 'pptx', 'ppt', 'odp'] as const;
export type SourceFormat = (typeof SOURCE_FORMATS)[number];

export interface FormatSpec {
  /** soffice `--infilter`, where the default guess is wrong or lossy. */
  importFilter?: string;
  /** soffice `--convert-to` target. */
  exportFilter: string;
  /** Sniffed types the bytes may have; `textual` means "anything that is not a known binary". */
  accepts: SniffedType[] | 'textual';
}

const WRITER = 'pdf:writer_pdf_Export';
const CALC = 'pdf:calc_pdf_Export';
const IMPRESS = 'pdf:impress_pdf_Export';

export const FORMAT_SPECS: Record<SourceFormat, FormatSpec> = {
  docx: { exportFilter: WRITER, accepts: ['docx'] },
  doc: { exportFilter: WRITER, accepts: ['ole'] },
  odt: { exportFilter: WRITER, accepts: ['zip'] },
  rtf: { exportFilter: WRITER, accepts: 'textual' },
  txt: { importFilter: 'Text (encoded):UTF8', exportFilter: WRITER, accepts: 'textual' },
  // LibreOffice 7.4 opens HTML in Writer/Web by default, whose PDF export drops headings;
  // importing it into plain Writer keeps all the text.
  html: { importFilter: 'HTML (StarWriter)', exportFilter: WRITER, accepts: 'textual' },
  xlsx: { exportFilter: CALC, accepts: ['xlsx'] },
  xls: { exportFilter: CALC, accepts: ['ole'] },
  ods: { exportFilter: CALC, accepts: ['zip'] },
  // Comma separated, double-quoted, UTF-8 (76), first line is a normal row.
  csv: { importFilter: 'CSV:44,34,76,1', exportFilter: CALC, accepts: 'textual' },
  pptx: { exportFilter: IMPRESS, accepts: ['pptx'] },
  ppt: { exportFilter: IMPRESS, accepts: ['ole'] },
  odp: { exportFilter: IMPRESS, accepts: ['zip'] },
};

const BINARY_TYPES: SniffedType[] = ['pdf', 'docx', 'xlsx', 'pptx', 'zip', 'ole', 'png', 'jpeg', 'gif', 'empty'];

const ALIASES: Record<string, SourceFormat> = {
  htm: 'html',
  text: 'txt',
  'text/html': 'html',
  'text/plain': 'txt',
  'text/csv': 'csv',
  'application/rtf': 'rtf',
  'text/rtf': 'rtf',
  'application/msword': 'doc',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.ms-powerpoint': 'ppt',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
  'application/vnd.oasis.opendocument.text': 'odt',
  'application/vnd.oasis.opendocument.spreadsheet': 'ods',
  'application/vnd.oasis.opendocument.presentation': 'odp',
};

/**
 * Reads a format name as makers write it: any case, with or without the dot ("DOCX",
 * ".docx"), "htm", or a media type such as a file object's `$content-type`.
 */
export function normalizeSourceFormat(value: unknown, path = 'sourceFormat'): SourceFormat {
  const text = typeof value === 'string' ? value.trim().toLowerCase().replace(/^\./, '').replace(/;.*$/, '') : '';
  if ((SOURCE_FORMATS as readonly string[]).includes(text)) return text as SourceFormat;
  const alias = ALIASES[text];
  if (alias) return alias;
  throw validationFailed(
    [{ path, message: `must be one of ${SOURCE_FORMATS.join(', ')}` }],
    `The source format ${JSON.stringify(value ?? null)} cannot be converted to PDF. Use one of ${SOURCE_FORMATS.join(', ')} (the file's extension).`,
  );
}

/**
 * The format the file's sniffed type reveals, when it does (Office Open XML only). Both this
 * and assertMatchesFormat take `sniffFileType`'s answer rather than the bytes: telling a .docx
 * from an .xlsx means opening the ZIP, which is done once per file.
 */
export function inferSourceFormat(type: SniffedType): SourceFormat | null {
  return type === 'docx' || type === 'xlsx' || type === 'pptx' ? type : null;
}

/** Throws a validation error when a file of the sniffed `type` cannot be a `format` file. */
export function assertMatchesFormat(type: SniffedType, format: SourceFormat, path = 'file'): void {
  const { accepts } = FORMAT_SPECS[format];
  const ok = accepts === 'textual' ? !BINARY_TYPES.includes(type) : accepts.includes(type);
  if (ok) return;
  const kind = describeFileType(type);
  const inferred = inferSourceFormat(type);
  const hint =
    type === 'pdf'
      ? ' It is already a PDF, so it needs no conversion.'
      : ` Set the source format to match the file${inferred ? ` ("${inferred}")` : ''}, or pass the right file.`;
  throw validationFailed(
    [{ path, message: `is not a ${format} file (it looks like ${kind})` }],
    `The file was declared as ${format}, but it looks like ${kind}.${hint}`,
  );
}
