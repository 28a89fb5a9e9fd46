/**
 * Documents an attacker with a valid key would send to stall or exhaust the service. Each is
 * small on the wire; what it would cost to process is what the caps and the worker pool bound.
 */
import { deflateRawSync, crc32 } from 'node:zlib';
import { makeDocx, makePdf, para } from '../documents/fixtures.js';

/**
 * A ~1 KB PDF whose page tree names the same node `fanout` times at each of `depth` levels:
 * fanout^depth pages (10^9 by default) for whoever flattens the tree.
 */
export function pageTreeBomb(fanout = 10, depth = 9): Buffer {
  const objects: string[] = [];
  objects.push('<< /Type /Catalog /Pages 2 0 R >>');
  for (let level = 0; level < depth; level++) {
    const child = level + 3;
    const kids = Array.from({ length: fanout }, () => `${child} 0 R`).join(' ');
    objects.push(`<< /Type /Pages /Kids [${kids}] /Count ${fanout ** (depth - level)} >>`);
  }
  objects.push('<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>');
  return assemblePdf(objects);
}

/** A PDF whose page tree leads back to its own root. */
export function pageTreeLoop(): Buffer {
  return assemblePdf(['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>', '<< /Type /Pages /Kids [2 0 R] /Count 1 >>']);
}

function assemblePdf(objects: string[]): Buffer {
  let out = '%PDF-1.7\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) out += `${String(offset).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/**
 * A Word template that loops over the same list three deep (an inner loop finds the list in
 * the enclosing scope): 3·width³ fields to fill for data of `width` rows.
 */
export function nestedLoopTemplate(): Buffer {
  return makeDocx(para('{#a}{#a}{#a}{x}{y}{z}{/a}{/a}{/a}'));
}

/** The data for nestedLoopTemplate: one list of `width` small rows. */
export function nestedLoopData(width: number): Record<string, unknown> {
  return { a: Array.from({ length: width }, (_, i) => ({ x: i, y: 'y', z: 'z' })) };
}

/**
 * A .docx whose document.xml expands to `expandedMb` MiB of spaces. With `lie`, the central
 * directory declares a tiny size, so only inflating it shows the truth.
 */
export function docxZipBomb(expandedMb: number, lie = false): Buffer {
  const xmlHead =
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>';
  const xmlTail = '</w:t></w:r></w:p></w:body></w:document>';
  const filler = Buffer.alloc(expandedMb * 1024 * 1024, 0x20);
  const documentXml = Buffer.concat([Buffer.from(xmlHead), filler, Buffer.from(xmlTail)]);
  const base = makeDocxEntries();
  return writeZip([...base, { name: 'word/document.xml', data: documentXml, declaredSize: lie ? 1024 : undefined }]);
}

function makeDocxEntries(): { name: string; data: Buffer }[] {
  return [
    {
      name: '[Content_Types].xml',
      data: Buffer.from(
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
      ),
    },
    {
      name: '_rels/.rels',
      data: Buffer.from(
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
      ),
    },
  ];
}

/** A plain ZIP writer (deflate), so a test can declare sizes that are not true. */
function writeZip(entries: { name: string; data: Buffer; declaredSize?: number }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const compressed = deflateRawSync(entry.data, { level: 9 });
    const crc = crc32(entry.data);
    const size = entry.declaredSize ?? entry.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, compressed);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

/** A 10-page PDF and 1,000 overlapping ranges over all of it: 10,000 pages to write. */
export async function overlappingSplit(): Promise<{ pdf: Buffer; ranges: string }> {
  return { pdf: await makePdf(10), ranges: Array.from({ length: 1000 }, () => '1-10').join(',') };
}

/** ComputeData rows, `count` of them. */
export function computeRows(count: number): Record<string, number>[] {
  return Array.from({ length: count }, (_, i) => ({ amount: i % 100, price: i % 7 }));
}
