import { type Static, Type, type TSchema } from 'typebox';
import type { DocumentLimits } from '../config.js';
import { defineOperation } from '../operations/operation.js';
import { checkOutputSize } from './caps.js';
import { resolveSourceFormat, SOURCE_FORMATS } from './convert.js';
import { withoutExternalReferences } from './external-references.js';
import type { SourceFormat } from './source-formats.js';
import { decodeFile, decodeFiles, MAX_REQUEST_BODY_BYTES } from './file-input.js';
import { MAX_WATERMARK_LENGTH, addPdfWatermark, countPdfPages, mergePdfs, splitPdf, type PdfOutput } from './pdf.js';
import { populateWordTemplate } from './word-template.js';

/**
 * A file argument: base64 text, or Power Automate's file object
 * `{"$content-type", "$content"}`. Validation is left to `decodeFile`, whose messages name
 * the file and say what to pick instead; the connector definition shows it as `format: byte`.
 */
export function FileArgument(summary: string, description: string): TSchema {
  return Type.Unsafe<unknown>({ 'x-bdoc-file': true, 'x-ms-summary': summary, description });
}

const FileName = (summary: string, description: string) =>
  Type.Optional(Type.String({ maxLength: 200, 'x-ms-summary': summary, description, 'x-ms-visibility': 'advanced' }));

const FileResult = Type.Object({
  fileName: Type.String({ 'x-ms-summary': 'File Name', description: 'The name of the produced file' }),
  fileContent: Type.String({ format: 'byte', 'x-ms-summary': 'File Content', description: 'The produced file, base64-encoded' }),
  pageCount: Type.Optional(Type.Integer({ 'x-ms-summary': 'Page Count', description: 'The number of pages of the produced PDF' })),
});

/** The answer of an action that produces one PDF: its name (always `.pdf`), content and pages. */
function pdfResult({ pdf, pages }: PdfOutput, requestedName: string | undefined, fallback: string, limits: DocumentLimits) {
  checkOutputSize(pdf.byteLength, limits);
  const name = requestedName?.trim() || fallback;
  return { fileName: /\.pdf$/i.test(name) ? name : `${name}.pdf`, fileContent: pdf.toString('base64'), pageCount: pages };
}

const MergeBody = Type.Object({
  files: Type.Array(FileArgument('File Content', 'The content of a PDF file to merge'), {
    'x-ms-summary': 'Files',
    description: 'The PDF files to merge, in order',
  }),
  fileName: FileName('Output File Name', 'The name of the merged file (default merged.pdf)'),
});

export const mergePdfsOperation = defineOperation({
  operationId: 'MergePdfs',
  method: 'POST',
  path: '/pdf/merge',
  summary: 'Merge PDF files',
  description: 'Combines two or more PDF files into one PDF, in the order given.',
  actionType: 'document',
  feature: 'pdf',
  visibility: 'important',
  bodyLimit: MAX_REQUEST_BODY_BYTES,
  body: MergeBody,
  response: FileResult,
  handle: (body, { jobs }) => jobs.answer('MergePdfs', body),
});

const SplitBody = Type.Object({
  fileContent: FileArgument('File Content', 'The content of the PDF file to split'),
  ranges: Type.Optional(
    Type.String({
      maxLength: 10_000,
      'x-ms-summary': 'Page Ranges',
      description: 'Comma-separated pages or ranges, one output file each, for example 1-3,5,7-',
    }),
  ),
  fileName: FileName('Output File Name', 'The base name of the produced files (default part)'),
});

export const splitPdfOperation = defineOperation({
  operationId: 'SplitPdf',
  method: 'POST',
  path: '/pdf/split',
  summary: 'Split a PDF file',
  description: 'Cuts a PDF file into several PDF files by page ranges such as 1-3,5; without ranges, every page becomes its own file.',
  actionType: 'document',
  feature: 'pdf',
  visibility: 'important',
  bodyLimit: MAX_REQUEST_BODY_BYTES,
  body: SplitBody,
  response: Type.Object({
    files: Type.Array(
      Type.Object({
        fileName: Type.String({ 'x-ms-summary': 'File Name', description: 'The name of this part' }),
        fileContent: Type.String({ format: 'byte', 'x-ms-summary': 'File Content', description: 'This part as a PDF, base64-encoded' }),
        range: Type.String({ 'x-ms-summary': 'Range', description: 'The pages of this part, as requested' }),
        pageCount: Type.Integer({ 'x-ms-summary': 'Page Count', description: 'The number of pages in this part' }),
      }),
      { 'x-ms-summary': 'Files', description: 'One PDF file per range' },
    ),
  }),
  handle: (body, { jobs }) => jobs.answer('SplitPdf', body),
});

const WatermarkBody = Type.Object({
  fileContent: FileArgument('File Content', 'The content of the PDF file to watermark'),
  text: Type.String({
    minLength: 1,
    maxLength: MAX_WATERMARK_LENGTH,
    'x-ms-summary': 'Watermark Text',
    description: 'The text of the watermark, for example CONFIDENTIAL',
  }),
  opacity: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: 1,
      'x-ms-summary': 'Opacity',
      description: 'From 0 (invisible) to 1 (opaque); default 0.3',
      'x-ms-visibility': 'advanced',
    }),
  ),
  rotation: Type.Optional(
    Type.Number({
      minimum: -360,
      maximum: 360,
      'x-ms-summary': 'Rotation',
      description: 'Degrees counter-clockwise; default 45',
      'x-ms-visibility': 'advanced',
    }),
  ),
  pages: Type.Optional(
    Type.String({
      maxLength: 10_000,
      'x-ms-summary': 'Pages',
      description: 'Pages to watermark, for example 1-3,5; default all pages',
      'x-ms-visibility': 'advanced',
    }),
  ),
  fontSize: Type.Optional(
    Type.Number({
      minimum: 4,
      maximum: 400,
      'x-ms-summary': 'Font Size',
      description: 'Font size in points; default the largest that fits',
      'x-ms-visibility': 'advanced',
    }),
  ),
  fileName: FileName('Output File Name', 'The name of the watermarked file (default watermarked.pdf)'),
});

export const addPdfWatermarkOperation = defineOperation({
  operationId: 'AddPdfWatermark',
  method: 'POST',
  path: '/pdf/watermark',
  summary: 'Add a text watermark to a PDF file',
  description: 'Writes a text watermark across the pages of a PDF file, with the opacity, rotation and pages you choose.',
  actionType: 'document',
  feature: 'pdf',
  bodyLimit: MAX_REQUEST_BODY_BYTES,
  body: WatermarkBody,
  response: FileResult,
  handle: (body, { jobs }) => jobs.answer('AddPdfWatermark', body),
});

const WordBody = Type.Object({
  templateContent: FileArgument('Template Content', 'The content of the .docx template, with fields such as {customer.name}'),
  data: Type.Unsafe<unknown>({ type: 'object', 'x-ms-summary': 'Data', description: 'The values for the template, as a JSON object' }),
  fileName: FileName('Output File Name', 'The name of the produced document (default document.docx)'),
});

export const populateWordTemplateOperation = defineOperation({
  operationId: 'PopulateWordTemplate',
  method: 'POST',
  path: '/word/populate',
  summary: 'Populate a Word template',
  description: 'Fills the fields, loops and conditions of a Word (.docx) template with JSON data and returns the document.',
  actionType: 'document',
  feature: 'word',
  visibility: 'important',
  bodyLimit: MAX_REQUEST_BODY_BYTES,
  body: WordBody,
  response: Type.Object({
    fileName: Type.String({ 'x-ms-summary': 'File Name', description: 'The name of the produced document' }),
    fileContent: Type.String({ format: 'byte', 'x-ms-summary': 'File Content', description: 'The populated .docx document, base64-encoded' }),
  }),
  handle: (body, { jobs }) => jobs.answer('PopulateWordTemplate', body),
});

const ConvertBody = Type.Object({
  fileContent: FileArgument('File Content', 'The content of the document to convert'),
  sourceFormat: Type.Optional(
    Type.Union(
      SOURCE_FORMATS.map((f) => Type.Literal(f)),
      {
        'x-ms-summary': 'Source Format',
        description: 'The format of the document, such as docx, xlsx, pptx or html; detected for docx, xlsx and pptx when left empty',
      },
    ),
  ),
  fileName: FileName('Output File Name', 'The name of the PDF file (default converted.pdf)'),
});

export const convertToPdfOperation = defineOperation({
  operationId: 'ConvertToPdf',
  method: 'POST',
  path: '/convert/pdf',
  summary: 'Convert a document to PDF',
  description: 'Converts a Word, Excel, PowerPoint or HTML document to PDF.',
  actionType: 'document',
  feature: 'convert',
  visibility: 'important',
  bodyLimit: MAX_REQUEST_BODY_BYTES,
  body: ConvertBody,
  response: FileResult,
  async handle(body, { jobs, converter, org }) {
    // Decoded, identified and cleaned of external references in a worker (a large package is
    // unzipped there): a 25 MB file's base64 never holds up the event loop.
    const { bytes, format, fileName } = await jobs.run<{ bytes: Uint8Array; format: SourceFormat; fileName?: string }>('PrepareConversion', body);
    const pdf = await converter.convertPrepared(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), format, org.id, 'fileContent');
    // LibreOffice's output is the one PDF we did not build with pdf-lib: a worker counts its pages and makes the answer.
    return jobs.answer('ConvertedPdfAnswer', { pdf, fileName }, { move: [pdf] });
  },
});

export const DOCUMENT_OPERATIONS = [mergePdfsOperation, splitPdfOperation, addPdfWatermarkOperation, populateWordTemplateOperation, convertToPdfOperation];

/**
 * The work of each document action, run by name in a worker thread (`src/jobs/job-worker.ts`)
 * with the caps of CONTRACT §8: nothing here runs on the event loop.
 */
export const DOCUMENT_JOBS = {
  async MergePdfs(body: Static<typeof MergeBody>, limits: DocumentLimits) {
    const files = decodeFiles(body.files, 'files', { maxBytes: limits.maxUploadBytes }).map((f) => f.bytes);
    return pdfResult(await mergePdfs(files, 'files', limits), body.fileName, 'merged.pdf', limits);
  },
  async SplitPdf(body: Static<typeof SplitBody>, limits: DocumentLimits) {
    const bytes = decodeFile(body.fileContent, 'fileContent', { maxBytes: limits.maxUploadBytes }).bytes;
    const parts = await splitPdf(bytes, body.ranges, { file: 'fileContent', ranges: 'ranges' }, limits);
    checkOutputSize(
      parts.reduce((sum, part) => sum + part.pdf.byteLength, 0),
      limits,
    );
    const base = (body.fileName?.trim() || 'part').replace(/\.pdf$/i, '');
    return {
      files: parts.map((part) => ({
        fileName: `${base}-${part.range}.pdf`,
        fileContent: part.pdf.toString('base64'),
        range: part.range,
        pageCount: part.pages,
      })),
    };
  },
  async AddPdfWatermark(body: Static<typeof WatermarkBody>, limits: DocumentLimits) {
    const { fileContent, fileName, ...options } = body;
    const bytes = decodeFile(fileContent, 'fileContent', { maxBytes: limits.maxUploadBytes }).bytes;
    return pdfResult(await addPdfWatermark(bytes, options, 'fileContent', limits), fileName, 'watermarked.pdf', limits);
  },
  PopulateWordTemplate(body: Static<typeof WordBody>, limits: DocumentLimits) {
    const template = decodeFile(body.templateContent, 'templateContent', { label: 'The template', maxBytes: limits.maxUploadBytes }).bytes;
    const docx = populateWordTemplate(template, body.data, { template: 'templateContent', data: 'data' }, limits);
    checkOutputSize(docx.byteLength, limits);
    const name = body.fileName?.trim() || 'document.docx';
    return { fileName: /\.docx$/i.test(name) ? name : `${name}.docx`, fileContent: docx.toString('base64') };
  },
  PrepareConversion({ fileContent, sourceFormat, fileName }: Static<typeof ConvertBody>, limits: DocumentLimits) {
    const bytes = decodeFile(fileContent, 'fileContent', { maxBytes: limits.maxUploadBytes }).bytes;
    const format = resolveSourceFormat(bytes, sourceFormat, 'fileContent');
    return { bytes: withoutExternalReferences(bytes, format, limits, 'fileContent'), format, fileName };
  },
  async ConvertedPdfAnswer({ pdf, fileName }: { pdf: Uint8Array; fileName?: string }, limits: DocumentLimits) {
    const bytes = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength);
    return pdfResult({ pdf: bytes, pages: await countPdfPages(bytes, 'file', limits) }, fileName, 'converted.pdf', limits);
  },
};
