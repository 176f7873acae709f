import { PDFParse } from 'pdf-parse';
import { LoadError } from '../errors.js';

/** Pages are joined with a form feed, so page boundaries survive for the furniture rules and the sectioniser. */
export const pageSeparator = '\f';

export async function pdfToText(bytes: Uint8Array): Promise<{ text: string; pages: number }> {
  const parser = new PDFParse({ data: bytes });
  try {
    const result = await parser.getText();
    const pages = result.pages.map((page) => page.text.replace(/[ \t]+\n/g, '\n').trim());
    return { text: pages.join(pageSeparator), pages: pages.length };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new LoadError(`cannot parse PDF: ${detail}`, {
      cause: error,
      code: 'E_PDF',
      fix: 'check that the file is a complete, unencrypted PDF (try opening it in a viewer), or export it again',
    });
  } finally {
    await parser.destroy().catch(() => {});
  }
}
