/**
 * Before a document reaches LibreOffice, everything in it that points outside it is removed
 * or refused, so that even a converter that escaped its sandbox would have nothing to fetch:
 * HTML loses its stylesheets, images, frames and other non-`data:` URLs (cleaned, since a web
 * page without them still converts); Office and OpenDocument files with linked (not embedded)
 * images, OLE links, frames or INCLUDEPICTURE / INCLUDETEXT / LINK / DDE fields, and RTF with
 * such fields, are refused with a 400 that names what was found. `file:` URLs are refused
 * everywhere.
 */
import PizZip from 'pizzip';
import type { DocumentLimits } from '../config.js';
import { type AppError, validationFailed } from '../errors/catalogue.js';
import { checkZipExpansion } from './caps.js';
import { removeHtmlReferences } from './html-references.js';
import type { SourceFormat } from './source-formats.js';

const ZIPPED: ReadonlySet<SourceFormat> = new Set(['docx', 'xlsx', 'pptx', 'odt', 'ods', 'odp']);
const FIELD = /\b(INCLUDEPICTURE|INCLUDETEXT|LINK|DDEAUTO|DDE|IMPORT|INCLUDE)\b/;

/** The document to hand to LibreOffice: the input itself, or (HTML) a cleaned copy. */
export function withoutExternalReferences(bytes: Buffer, format: SourceFormat, limits: DocumentLimits, path = 'fileContent'): Buffer {
  if (format === 'html') return Buffer.from(removeHtmlReferences(bytes.toString('utf8')), 'utf8');
  if (format === 'rtf') {
    checkRtf(bytes.toString('latin1'), path);
    return bytes;
  }
  if (ZIPPED.has(format)) {
    checkZipExpansion(bytes, limits, 'The document');
    checkZippedDocument(bytes, path);
  }
  return bytes;
}

function refused(path: string, what: string): AppError {
  return validationFailed(
    [{ path, message: `links to something outside the document (${what})` }],
    `The document links to something outside itself (${what}), which is never fetched when converting. Embed the content instead of linking it (in Word: File › Info › Edit links to files › Break link; for pictures, Insert › Pictures › Insert, not "Link to file"), then try again.`,
  );
}

function checkRtf(text: string, path: string): void {
  if (/file:/i.test(text)) throw refused(path, 'a file: URL');
  if (/\\objautlink|\\objlink/.test(text)) throw refused(path, 'a linked OLE object');
  for (const match of text.matchAll(/\\fldinst\s*(?:\{[^{}]*\}|[^{}])*/g)) {
    const field = FIELD.exec(match[0].replace(/\\[a-z]+-?\d* ?|[{}]/g, ' '));
    if (field) throw refused(path, `an ${field[1]} field`);
  }
}

/** Parts of an Office or OpenDocument package that can point outside it. */
function checkZippedDocument(bytes: Buffer, path: string): void {
  let zip: PizZip;
  try {
    zip = new PizZip(bytes);
  } catch {
    return; // Not readable as a ZIP: LibreOffice's own "could not open" answer follows.
  }
  for (const name of Object.keys(zip.files)) {
    const entry = zip.files[name];
    if (!entry || entry.dir) continue;
    if (name.endsWith('.rels')) {
      const xml = entry.asText();
      for (const rel of xml.matchAll(/<Relationship\b[^>]*>/g)) {
        const tag = rel[0];
        const target = /Target="([^"]*)"/.exec(tag)?.[1] ?? '';
        if (/^file:/i.test(target.trim())) throw refused(path, `a file: link in ${name}`);
        if (!/TargetMode="External"/.test(tag)) continue;
        // Hyperlinks are only followed by a reader who clicks them; anything else is fetched.
        if (/\/hyperlink"/.test(tag)) continue;
        const type = /Type="[^"]*\/([^"/]+)"/.exec(tag)?.[1] ?? 'relationship';
        throw refused(path, `an external ${type} link`);
      }
    } else if (/\.xml$/i.test(name) && /^(word|xl|ppt)\/|^(content|styles)\.xml$/.test(name)) {
      const xml = entry.asText();
      const field = /<w:instrText[^>]*>([^<]*)</g;
      for (const match of xml.matchAll(field)) {
        const found = FIELD.exec(match[1] ?? '');
        if (found) throw refused(path, `an ${found[1]} field`);
      }
      const simple = /<w:fldSimple\b[^>]*w:instr="([^"]*)"/g;
      for (const match of xml.matchAll(simple)) {
        const found = FIELD.exec(match[1] ?? '');
        if (found) throw refused(path, `an ${found[1]} field`);
      }
      // OpenDocument: xlink:href to anything but the package's own parts.
      for (const match of xml.matchAll(/xlink:href="([^"]*)"/g)) {
        const href = match[1] ?? '';
        if (/^file:/i.test(href)) throw refused(path, 'a file: URL');
        const linkedObject = /<(draw:image|draw:object|draw:object-ole|text:section-source|draw:plugin|draw:applet)\b[^>]*$/.test(
          xml.slice(Math.max(0, (match.index ?? 0) - 300), match.index),
        );
        if (linkedObject && /^[a-z][a-z0-9+.-]*:/i.test(href)) throw refused(path, 'a linked image or object');
      }
      if (/file:\/\//i.test(xml)) throw refused(path, 'a file: URL');
    }
  }
}
