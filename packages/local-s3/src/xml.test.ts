import { describe, expect, it } from "vitest";
import {
  XmlSyntaxError,
  childElements,
  childText,
  escapeXml,
  parseXml,
  xmlDocument,
} from "./xml.ts";

describe("escapeXml", () => {
  it("escapes markup characters and control characters", () => {
    expect(escapeXml(`a&b<c>"d'`)).toBe("a&amp;b&lt;c&gt;&quot;d&apos;");
    expect(escapeXml("line\r\nnext\u0001")).toBe("line&#xD;&#xA;next&#x1;");
  });

  it("keeps unicode as is", () => {
    expect(escapeXml("ключ/日本/😀")).toBe("ключ/日本/😀");
  });
});

describe("parseXml", () => {
  it("parses a DeleteObjects document with namespaces, entities and character references", () => {
    const root = parseXml(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        "<Quiet>true</Quiet><Object><Key>a&amp;b &lt;c&gt; &#x1F600; &#65;</Key></Object>" +
        "<Object><Key><![CDATA[raw <key> & more]]></Key></Object></Delete>",
    );
    expect(root.name).toBe("Delete");
    expect(childText(root, "Quiet")).toBe("true");
    expect(childElements(root, "Object").map((object) => childText(object, "Key"))).toEqual([
      "a&b <c> 😀 A",
      "raw <key> & more",
    ]);
  });

  it("drops namespace prefixes from element names", () => {
    const root = parseXml('<s3:Complete xmlns:s3="x"><s3:Part>1</s3:Part></s3:Complete>');
    expect(root.name).toBe("Complete");
    expect(childText(root, "Part")).toBe("1");
  });

  it("round-trips escaped text", () => {
    const text = "weird key \r\n & <tag> \"quoted\" 'single' \u0007";
    const root = parseXml(xmlDocument("Key", escapeXml(text)));
    expect(root.text).toBe(text);
  });

  it.each([
    ["a DOCTYPE", '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'],
    ["mismatched tags", "<a><b></a></b>"],
    ["an unknown entity", "<a>&bogus;</a>"],
    ["a bare ampersand", "<a>a & b</a>"],
    ["an unterminated element", "<a><b>text</b>"],
    ["content after the root", "<a/><b/>"],
    ["no root", "   "],
  ])("rejects %s", (_label, source) => {
    expect(() => parseXml(source)).toThrow(XmlSyntaxError);
  });

  it("rejects documents nested too deeply", () => {
    expect(() => parseXml("<a>".repeat(100) + "</a>".repeat(100))).toThrow(XmlSyntaxError);
  });
});
