/**
 * XML escaping for the GNI writer. Text content escapes `&`, `<` and `>`;
 * attribute values (always written in double quotes) also escape `"` and
 * the whitespace characters an XML parser would normalise away (tab, CR, LF),
 * so what the parser reads back is exactly what was written.
 *
 * Almost every GNI value (ids, addresses, numbers) needs no escaping, so a
 * single regex test comes first and the common case allocates nothing.
 */

const TEXT_SPECIAL = /[&<>\r]/;
const ATTR_SPECIAL = /[&<>"\t\n\r]/;

export function escapeText(value: string): string {
  if (!TEXT_SPECIAL.test(value)) return value;
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

export function escapeAttr(value: string): string {
  if (!ATTR_SPECIAL.test(value)) return value;
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}
