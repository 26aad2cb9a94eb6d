// Object operations: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects, CopyObject.
import { createHash } from "node:crypto";
import { pipeline } from "node:stream/promises";
import { headerChecksum } from "../body.ts";
import { evaluateConditions } from "../conditions.ts";
import {
  assertHeaderSafe,
  httpDate,
  isoDate,
  readSmallBody,
  receiveInto,
  sendEmpty,
  sendXml,
  wholeSecond,
  type BucketContext,
  type ObjectContext,
  type RequestContext,
} from "../context.ts";
import { S3Error } from "../errors.ts";
import { assertKey } from "../names.ts";
import { parseRange } from "../range.ts";
import { percentDecode } from "../request.ts";
import { checkWriteConditions, type WriteConditions } from "../storage/store.ts";
import type { ObjectHeaders, StoredObject } from "../storage/types.ts";
import {
  XmlSyntaxError,
  childElements,
  childText,
  parseXml,
  xmlDocument,
  xmlText,
  type XmlElement,
} from "../xml.ts";

const MAX_METADATA_BYTES = 2048;
const MAX_PART_NUMBER = 10_000;

/** The representation headers and `x-amz-meta-*` of a write request. */
export const captureObjectHeaders = (headers: ReadonlyMap<string, string>): ObjectHeaders => {
  const metadata: Array<[string, string]> = [];
  let metadataBytes = 0;
  for (const [name, value] of headers) {
    if (!name.startsWith("x-amz-meta-")) continue;
    const shortName = name.slice("x-amz-meta-".length);
    metadata.push([shortName, value]);
    metadataBytes += Buffer.byteLength(shortName) + Buffer.byteLength(value);
  }
  if (metadataBytes > MAX_METADATA_BYTES) throw new S3Error("MetadataTooLarge");
  // aws-chunked is transfer framing, not a property of the object: S3 drops it.
  const contentEncoding = (headers.get("content-encoding") ?? "")
    .split(",")
    .map((coding) => coding.trim())
    .filter((coding) => coding !== "" && coding.toLowerCase() !== "aws-chunked")
    .join(",");
  const optional = (name: keyof ObjectHeaders, header: string) => {
    const value = headers.get(header);
    return value != null && value !== "" ? { [name]: value } : {};
  };
  return {
    ...optional("contentType", "content-type"),
    ...(contentEncoding !== "" ? { contentEncoding } : {}),
    ...optional("contentDisposition", "content-disposition"),
    ...optional("contentLanguage", "content-language"),
    ...optional("cacheControl", "cache-control"),
    ...optional("expires", "expires"),
    metadata,
  };
};

/** `If-None-Match`/`If-Match` of a write. */
export const writeConditions = (headers: ReadonlyMap<string, string>): WriteConditions => {
  const ifNoneMatch = headers.get("if-none-match");
  const ifMatch = headers.get("if-match");
  return {
    ...(ifNoneMatch != null ? { ifNoneMatch } : {}),
    ...(ifMatch != null ? { ifMatch } : {}),
  };
};

/** There is no versioning: only the "null" version exists. */
const assertNullVersion = (context: RequestContext): void => {
  const versionId = context.query.get("versionId");
  if (versionId != null && versionId !== "null")
    throw new S3Error("InvalidArgument", "Invalid version id specified", {
      detail: { ArgumentName: "versionId", ArgumentValue: versionId },
    });
};

const checksumHeaders = (object: { checksum?: StoredObject["checksum"] }): Record<string, string> =>
  object.checksum != null
    ? { [`x-amz-checksum-${object.checksum.algorithm}`]: object.checksum.valueBase64 }
    : {};

/** An MD5 hex digest as an S3 ETag. */
export const quotedEtag = (md5Hex: string): string => `"${md5Hex}"`;

export const putObject = async (context: ObjectContext): Promise<void> => {
  const { store, now } = context.server;
  const { bucket, key } = context.target;
  store.requireBucket(bucket);
  assertKey(key);
  const headers = captureObjectHeaders(context.headers);
  const conditions = writeConditions(context.headers);
  // Fail fast before the body; checked again, atomically, when the object is stored.
  checkWriteConditions(conditions, store.getObject(bucket, key), key);
  const writer = store.blobs.createWriter();
  const digest = await receiveInto(context, writer);
  const blob = await writer.finish();
  const object: StoredObject = {
    key,
    sizeBytes: digest.sizeBytes,
    etag: quotedEtag(digest.md5Hex),
    lastModifiedMs: wholeSecond(now()),
    headers,
    ...(digest.checksum != null ? { checksum: digest.checksum } : {}),
    blobs: [blob],
    multipart: false,
  };
  await store.putObject(bucket, object, conditions);
  sendEmpty(context, 200, { etag: object.etag, ...checksumHeaders(object) });
};

const RESPONSE_OVERRIDES: ReadonlyArray<readonly [query: string, header: string]> = [
  ["response-content-type", "content-type"],
  ["response-content-language", "content-language"],
  ["response-expires", "expires"],
  ["response-cache-control", "cache-control"],
  ["response-content-disposition", "content-disposition"],
  ["response-content-encoding", "content-encoding"],
];

/** The headers GetObject/HeadObject send for an object (before range headers). */
const representationHeaders = (
  context: RequestContext,
  object: StoredObject,
): Record<string, string> => {
  const { headers } = object;
  const out: Record<string, string> = {
    "content-type": headers.contentType ?? "binary/octet-stream",
    etag: object.etag,
    "last-modified": httpDate(object.lastModifiedMs),
    "accept-ranges": "bytes",
  };
  if (headers.contentEncoding != null) out["content-encoding"] = headers.contentEncoding;
  if (headers.contentDisposition != null) out["content-disposition"] = headers.contentDisposition;
  if (headers.contentLanguage != null) out["content-language"] = headers.contentLanguage;
  if (headers.cacheControl != null) out["cache-control"] = headers.cacheControl;
  if (headers.expires != null) out["expires"] = headers.expires;
  for (const [name, value] of headers.metadata) out[`x-amz-meta-${name}`] = value;
  for (const [parameter, header] of RESPONSE_OVERRIDES) {
    const value = context.query.get(parameter);
    if (value != null) out[header] = assertHeaderSafe(value, parameter);
  }
  return out;
};

/** GetObject and HeadObject. */
export const getObject = async (context: ObjectContext): Promise<void> => {
  await readSmallBody(context);
  assertNullVersion(context);
  const { store } = context.server;
  const { bucket, key } = context.target;
  const object = store.getObject(bucket, key);
  if (object == null) throw new S3Error("NoSuchKey", undefined, { detail: { Key: key } });

  const outcome = evaluateConditions(
    {
      ifMatch: context.headers.get("if-match"),
      ifNoneMatch: context.headers.get("if-none-match"),
      ifModifiedSince: context.headers.get("if-modified-since"),
      ifUnmodifiedSince: context.headers.get("if-unmodified-since"),
    },
    object,
  );
  if (outcome === "precondition-failed") throw new S3Error("PreconditionFailed");
  if (outcome === "not-modified") {
    sendEmpty(context, 304, {
      etag: object.etag,
      "last-modified": httpDate(object.lastModifiedMs),
    });
    return;
  }

  const headers = representationHeaders(context, object);
  let start = 0;
  let endExclusive = object.sizeBytes;
  let status = 200;
  const rangeHeader = context.headers.get("range");
  const partNumberText = context.query.get("partNumber");
  if (partNumberText != null) {
    if (rangeHeader != null)
      throw new S3Error(
        "InvalidRequest",
        "Cannot specify both Range header and partNumber query parameter.",
      );
    const partNumber = Number(partNumberText);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER)
      throw new S3Error(
        "InvalidArgument",
        "Part number must be an integer between 1 and 10000, inclusive",
        {
          detail: { ArgumentName: "partNumber", ArgumentValue: partNumberText },
        },
      );
    const parts = object.multipart ? object.blobs : [{ id: "", sizeBytes: object.sizeBytes }];
    if (partNumber > parts.length)
      throw new S3Error("InvalidPartNumber", undefined, {
        detail: { PartNumberRequested: String(partNumber), ActualPartCount: String(parts.length) },
      });
    for (let index = 0; index < partNumber - 1; index++) start += parts[index]!.sizeBytes;
    endExclusive = start + parts[partNumber - 1]!.sizeBytes;
    if (object.multipart) {
      headers["x-amz-mp-parts-count"] = String(parts.length);
      status = 206;
    }
  } else {
    const range = parseRange(rangeHeader, object.sizeBytes);
    if (range.kind === "unsatisfiable") {
      throw new S3Error("InvalidRange", undefined, {
        detail: { RangeRequested: rangeHeader ?? "", ActualObjectSize: String(object.sizeBytes) },
        responseHeaders: { "content-range": `bytes */${object.sizeBytes}` },
      });
    }
    if (range.kind === "range") {
      start = range.start;
      endExclusive = range.endInclusive + 1;
      status = 206;
    }
  }
  if (status === 206 && object.sizeBytes > 0)
    headers["content-range"] = `bytes ${start}-${endExclusive - 1}/${object.sizeBytes}`;
  // The stored checksum covers the whole object only.
  if (
    status === 200 &&
    partNumberText == null &&
    context.headers.get("x-amz-checksum-mode")?.toUpperCase() === "ENABLED"
  ) {
    Object.assign(headers, checksumHeaders(object));
  }
  headers["content-length"] = String(endExclusive - start);

  if (context.method === "HEAD") {
    context.res.writeHead(status, headers);
    context.res.end();
    return;
  }
  const lease = store.lease(object.blobs);
  context.res.once("close", () => lease.release());
  context.res.writeHead(status, headers);
  try {
    await pipeline(store.read(object.blobs, start, endExclusive), context.res);
  } finally {
    lease.release();
  }
};

export const deleteObject = async (context: ObjectContext): Promise<void> => {
  await readSmallBody(context);
  assertNullVersion(context);
  await context.server.store.deleteObject(context.target.bucket, context.target.key);
  sendEmpty(context, 204);
};

const parseDocument = (body: Buffer): XmlElement => {
  try {
    return parseXml(body.toString("utf8"));
  } catch (error) {
    if (error instanceof XmlSyntaxError) throw new S3Error("MalformedXML");
    throw error;
  }
};

export const deleteObjects = async (context: BucketContext): Promise<void> => {
  const body = await readSmallBody(context);
  const { store } = context.server;
  const bucket = context.target.bucket;
  store.requireBucket(bucket);
  const hasTrailerChecksum = (context.headers.get("x-amz-trailer") ?? "").includes(
    "x-amz-checksum-",
  );
  if (
    !context.headers.has("content-md5") &&
    headerChecksum(context.headers) == null &&
    !hasTrailerChecksum
  ) {
    throw new S3Error("InvalidRequest", "Missing required header for this request: Content-MD5");
  }
  const document = parseDocument(body);
  if (document.name !== "Delete") throw new S3Error("MalformedXML");
  const quiet = childText(document, "Quiet")?.trim().toLowerCase() === "true";
  const entries = childElements(document, "Object");
  if (entries.length === 0 || entries.length > 1000) throw new S3Error("MalformedXML");
  const results: string[] = [];
  for (const entry of entries) {
    const key = childText(entry, "Key");
    const versionId = childText(entry, "VersionId");
    if (key == null) throw new S3Error("MalformedXML");
    if (versionId != null && versionId !== "null") {
      results.push(
        `<Error>${xmlText("Key", key)}${xmlText("VersionId", versionId)}<Code>NoSuchVersion</Code>` +
          `<Message>The specified version does not exist.</Message></Error>`,
      );
      continue;
    }
    await store.deleteObject(bucket, key);
    if (!quiet) results.push(`<Deleted>${xmlText("Key", key)}</Deleted>`);
  }
  sendXml(context, 200, xmlDocument("DeleteResult", results.join("")));
};

/** `x-amz-copy-source`: "[/]bucket/key[?versionId=…]", URL-encoded, decoded once. */
export const parseCopySource = (header: string | undefined): { bucket: string; key: string } => {
  const invalid = () =>
    new S3Error(
      "InvalidArgument",
      "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
      { detail: { ArgumentName: "x-amz-copy-source" } },
    );
  if (header == null) throw invalid();
  let value = header.trim();
  const versionAt = value.indexOf("?versionId=");
  if (versionAt >= 0) {
    const versionId = percentDecode(value.slice(versionAt + "?versionId=".length));
    if (versionId !== "null") throw new S3Error("NoSuchVersion");
    value = value.slice(0, versionAt);
  }
  const decoded = percentDecode(value.startsWith("/") ? value.slice(1) : value);
  const slash = decoded.indexOf("/");
  if (slash <= 0 || slash === decoded.length - 1) throw invalid();
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
};

/** Looks up a copy source and applies `x-amz-copy-source-if-*`. */
export const resolveCopySource = (context: RequestContext): StoredObject => {
  const source = parseCopySource(context.headers.get("x-amz-copy-source"));
  const object = context.server.store.getObject(source.bucket, source.key);
  if (object == null) throw new S3Error("NoSuchKey", undefined, { detail: { Key: source.key } });
  const outcome = evaluateConditions(
    {
      ifMatch: context.headers.get("x-amz-copy-source-if-match"),
      ifNoneMatch: context.headers.get("x-amz-copy-source-if-none-match"),
      ifModifiedSince: context.headers.get("x-amz-copy-source-if-modified-since"),
      ifUnmodifiedSince: context.headers.get("x-amz-copy-source-if-unmodified-since"),
    },
    object,
  );
  if (outcome !== "proceed") throw new S3Error("PreconditionFailed");
  return object;
};

/** Copies bytes `[start, endExclusive)` of an object into a new blob; returns it and its MD5. */
export const copyBytes = async (
  context: RequestContext,
  source: StoredObject,
  start: number,
  endExclusive: number,
) => {
  const { store } = context.server;
  const lease = store.lease(source.blobs);
  const writer = store.blobs.createWriter();
  const md5 = createHash("md5");
  try {
    for await (const piece of store.read(source.blobs, start, endExclusive)) {
      md5.update(piece);
      await writer.write(piece);
    }
  } catch (error) {
    await writer.abort();
    throw error;
  } finally {
    lease.release();
  }
  return { blob: await writer.finish(), md5Hex: md5.digest("hex") };
};

export const copyObject = async (context: ObjectContext): Promise<void> => {
  await readSmallBody(context);
  const { store, now } = context.server;
  const { bucket, key } = context.target;
  store.requireBucket(bucket);
  assertKey(key);
  const source = resolveCopySource(context);
  const directive = (context.headers.get("x-amz-metadata-directive") ?? "COPY").toUpperCase();
  if (directive !== "COPY" && directive !== "REPLACE")
    throw new S3Error("InvalidArgument", "Unknown metadata directive.", {
      detail: { ArgumentName: "x-amz-metadata-directive", ArgumentValue: directive },
    });
  const copySource = parseCopySource(context.headers.get("x-amz-copy-source"));
  if (
    copySource.bucket === bucket &&
    copySource.key === key &&
    directive === "COPY" &&
    !context.headers.has("x-amz-storage-class")
  ) {
    throw new S3Error(
      "InvalidRequest",
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const headers = directive === "REPLACE" ? captureObjectHeaders(context.headers) : source.headers;
  const copied = await copyBytes(context, source, 0, source.sizeBytes);
  const object: StoredObject = {
    key,
    sizeBytes: source.sizeBytes,
    etag: quotedEtag(copied.md5Hex),
    lastModifiedMs: wholeSecond(now()),
    headers,
    // Same bytes, same whole-object checksum (a multipart source has none stored).
    ...(source.checksum != null ? { checksum: source.checksum } : {}),
    blobs: [copied.blob],
    multipart: false,
  };
  await store.putObject(bucket, object, writeConditions(context.headers));
  sendXml(
    context,
    200,
    xmlDocument(
      "CopyObjectResult",
      `${xmlText("LastModified", isoDate(object.lastModifiedMs))}${xmlText("ETag", object.etag)}`,
    ),
  );
};
