// Just enough XML for S3: escaping for responses and a strict little parser for the two request
// documents with bodies we accept (DeleteObjects, CompleteMultipartUpload, CreateBucket).
// No DTDs and no custom entities, so no entity-expansion games.

/** The S3 response namespace. */
export const S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/";

// Characters that XML text may not hold raw or that parsers would rewrite (\r, \t, \n in
// attribute-normalising readers) are written as character references, as S3 does.
const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/** Escapes text for an XML element body. */
export const escapeXml = (text: string): string =>
  // oxlint-disable-next-line no-control-regex -- control characters are exactly what we escape
  text.replace(/[&<>"'\u0000-\u001f\u007f\ufffe\uffff]/g, (char) => {
    return ESCAPES[char] ?? `&#x${char.charCodeAt(0).toString(16).toUpperCase()};`;
  });

/** `<name>escaped text</name>`; nothing when the value is undefined. */
export const xmlText = (name: string, value: string | number | boolean | undefined): string =>
  value === undefined ? "" : `<${name}>${escapeXml(String(value))}</${name}>`;

/** A whole S3 response document with the XML declaration and the S3 namespace. */
export const xmlDocument = (root: string, inner: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_XMLNS}">${inner}</${root}>`;

/** A parsed element: local name (namespace prefix dropped), child elements, direct text. */
export interface XmlElement {
  readonly name: string;
  readonly children: XmlElement[];
  text: string;
}

/** Thrown by {@link parseXml}; the server turns it into `MalformedXML`. */
export class XmlSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "XmlSyntaxError";
  }
}

const MAX_DEPTH = 32;
const NAME = /[A-Za-z_][\w.:-]*/y;

const decodeEntities = (text: string): string =>
  text.replace(/&([^;&\s]*);?/g, (match, entity: string) => {
    if (!match.endsWith(";")) throw new XmlSyntaxError("unterminated entity reference");
    switch (entity) {
      case "amp":
        return "&";
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "quot":
        return '"';
      case "apos":
        return "'";
    }
    const code = /^#x([0-9a-fA-F]{1,6})$/.exec(entity)?.[1] ?? /^#([0-9]{1,7})$/.exec(entity)?.[1];
    if (code == null) throw new XmlSyntaxError(`unknown entity &${entity};`);
    const codePoint = Number.parseInt(code, entity.startsWith("#x") ? 16 : 10);
    if (codePoint > 0x10ffff) throw new XmlSyntaxError("character reference out of range");
    return String.fromCodePoint(codePoint);
  });

/**
 * Parses a document into its root element. Comments, processing instructions and CDATA are
 * understood; a DOCTYPE is refused.
 * @throws XmlSyntaxError
 */
export const parseXml = (source: string): XmlElement => {
  let position = source.charCodeAt(0) === 0xfeff ? 1 : 0;

  const fail = (what: string): never => {
    throw new XmlSyntaxError(`${what} at offset ${position}`);
  };
  const skipWhitespace = () => {
    while (position < source.length && /\s/.test(source[position]!)) position++;
  };
  const skipUntil = (terminator: string) => {
    const end = source.indexOf(terminator, position);
    if (end < 0) fail(`missing "${terminator}"`);
    position = end + terminator.length;
  };
  // Skips the prolog/epilog: declaration, processing instructions, comments, whitespace.
  const skipMisc = () => {
    for (;;) {
      skipWhitespace();
      if (source.startsWith("<?", position)) skipUntil("?>");
      else if (source.startsWith("<!--", position)) skipUntil("-->");
      else if (source.startsWith("<!", position) && !source.startsWith("<![CDATA[", position))
        fail("DOCTYPE is not allowed");
      else return;
    }
  };
  const readName = (): string => {
    NAME.lastIndex = position;
    const match = NAME.exec(source);
    if (match == null) return fail("expected a name");
    position += match[0].length;
    const colon = match[0].lastIndexOf(":");
    return colon >= 0 ? match[0].slice(colon + 1) : match[0];
  };

  const readElement = (depth: number): XmlElement => {
    if (depth > MAX_DEPTH) fail("document nested too deeply");
    if (source[position] !== "<") fail("expected an element");
    position++;
    const rawStart = position;
    const name = readName();
    const qualifiedName = source.slice(rawStart, position);
    // Attributes (namespaces) carry nothing we use: skip them, quoted values included.
    for (;;) {
      skipWhitespace();
      const char = source[position];
      if (char === "/" && source[position + 1] === ">") {
        position += 2;
        return { name, children: [], text: "" };
      }
      if (char === ">") {
        position++;
        break;
      }
      if (char == null) fail("unterminated start tag");
      readName();
      skipWhitespace();
      if (source[position] !== "=") fail("expected = in attribute");
      position++;
      skipWhitespace();
      const quote = source[position];
      if (quote !== '"' && quote !== "'") return fail("expected a quoted attribute value");
      position++;
      skipUntil(quote);
    }
    const element: XmlElement = { name, children: [], text: "" };
    for (;;) {
      const next = source.indexOf("<", position);
      if (next < 0) fail(`unterminated element <${qualifiedName}>`);
      element.text += decodeEntities(source.slice(position, next));
      position = next;
      if (source.startsWith("</", position)) {
        position += 2;
        const closeStart = position;
        readName();
        if (source.slice(closeStart, position) !== qualifiedName)
          fail(`mismatched end tag for <${qualifiedName}>`);
        skipWhitespace();
        if (source[position] !== ">") fail("expected >");
        position++;
        return element;
      }
      if (source.startsWith("<![CDATA[", position)) {
        const end = source.indexOf("]]>", position);
        if (end < 0) fail("unterminated CDATA");
        element.text += source.slice(position + 9, end);
        position = end + 3;
      } else if (source.startsWith("<!--", position)) skipUntil("-->");
      else if (source.startsWith("<?", position)) skipUntil("?>");
      else element.children.push(readElement(depth + 1));
    }
  };

  skipMisc();
  const root = readElement(0);
  skipMisc();
  if (position < source.length) fail("content after the root element");
  return root;
};

/** The direct children called `name`. */
export const childElements = (element: XmlElement, name: string): XmlElement[] =>
  element.children.filter((child) => child.name === name);

/** The text of the first direct child called `name`, if there is one. */
export const childText = (element: XmlElement, name: string): string | undefined =>
  element.children.find((child) => child.name === name)?.text;
