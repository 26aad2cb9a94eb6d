import { describe, expect, it } from "vitest";
import { renderListBuckets } from "./list-buckets.ts";

describe("renderListBuckets", () => {
  it("renders S3's ListAllMyBucketsResult sorted by name, escaping text", () => {
    const xml = renderListBuckets("AK<&>", [
      { name: "zeta", creationDateMs: 0 },
      { name: "alpha", creationDateMs: Date.UTC(2024, 0, 2) },
    ]);
    expect(xml).toContain(
      '<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
    );
    expect(xml).toContain(
      "<Owner><ID>AK&lt;&amp;&gt;</ID><DisplayName>AK&lt;&amp;&gt;</DisplayName></Owner>",
    );
    expect(xml.indexOf("<Name>alpha</Name>")).toBeLessThan(xml.indexOf("<Name>zeta</Name>"));
    expect(xml).toContain("<CreationDate>2024-01-02T00:00:00.000Z</CreationDate>");
    expect(xml).toContain("<CreationDate>1970-01-01T00:00:00.000Z</CreationDate>");
  });

  it("renders an empty list", () => {
    expect(renderListBuckets("AK", [])).toContain("<Buckets></Buckets>");
  });
});
