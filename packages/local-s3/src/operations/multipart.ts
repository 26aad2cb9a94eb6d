// Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy,
// CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads.
import { createHash, randomBytes } from "node:crypto";
import { parseChecksumAlgorithm } from "@osp/sigv4";
import {
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
import { compareKeys } from "../listing.ts";
import { assertKey } from "../names.ts";
import { parseCopySourceRange } from "../range.ts";
import type { StoredObject, StoredPart } from "../storage/types.ts";
import {
  XmlSyntaxError,
  childElements,
  childText,
  parseXml,
  xmlDocument,
  xmlText,
} from "../xml.ts";
import { integerParameter, ownerXml } from "./bucket.ts";
import {
  captureObjectHeaders,
  copyBytes,
  quotedEtag,
  resolveCopySource,
  writeConditions,
} from "./object.ts";
import { sameEtag } from "../conditions.ts";

const MAX_PART_NUMBER = 10_000;

const uploadIdOf = (context: RequestContext): string => context.query.get("uploadId") ?? "";

const partNumberOf = (context: RequestContext): number => {
  const text = context.query.get("partNumber") ?? "";
  const partNumber = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(partNumber >= 1 && partNumber <= MAX_PART_NUMBER)) {
    throw new S3Error(
      "InvalidArgument",
      "Part number must be an integer between 1 and 10000, inclusive",
      {
        detail: { ArgumentName: "partNumber", ArgumentValue: text },
      },
    );
  }
  return partNumber;
};

const checksumXml = (checksum: StoredPart["checksum"]): string =>
  checksum != null
    ? xmlText(`Checksum${checksum.algorithm.toUpperCase()}`, checksum.valueBase64)
    : "";

export const createMultipartUpload = async (context: ObjectContext): Promise<void> => {
  await readSmallBody(context);
  const { store, now } = context.server;
  const { bucket, key } = context.target;
  store.requireBucket(bucket);
  assertKey(key);
  const algorithmHeader = context.headers.get("x-amz-checksum-algorithm");
  const checksumAlgorithm =
    algorithmHeader != null
      ? parseChecksumAlgorithm(`x-amz-checksum-${algorithmHeader.trim().toLowerCase()}`)
      : undefined;
  if (algorithmHeader != null && checksumAlgorithm == null)
    throw new S3Error("InvalidRequest", `Checksum algorithm ${algorithmHeader} is not supported.`);
  const uploadId = randomBytes(20).toString("hex");
  await store.createUpload({
    uploadId,
    bucket,
    key,
    initiatedMs: now(),
    headers: captureObjectHeaders(context.headers),
    ...(checksumAlgorithm != null ? { checksumAlgorithm } : {}),
    parts: [],
  });
  sendXml(
    context,
    200,
    xmlDocument(
      "InitiateMultipartUploadResult",
      `${xmlText("Bucket", bucket)}${xmlText("Key", key)}${xmlText("UploadId", uploadId)}`,
    ),
    checksumAlgorithm != null
      ? { "x-amz-checksum-algorithm": checksumAlgorithm.toUpperCase() }
      : {},
  );
};

export const uploadPart = async (context: ObjectContext): Promise<void> => {
  const { store, now } = context.server;
  const { bucket, key } = context.target;
  const partNumber = partNumberOf(context);
  const uploadId = uploadIdOf(context);
  store.getUpload(bucket, key, uploadId);
  const writer = store.blobs.createWriter();
  const digest = await receiveInto(context, writer);
  const blob = await writer.finish();
  const part: StoredPart = {
    partNumber,
    etag: quotedEtag(digest.md5Hex),
    sizeBytes: digest.sizeBytes,
    lastModifiedMs: wholeSecond(now()),
    blob,
    ...(digest.checksum != null ? { checksum: digest.checksum } : {}),
  };
  await store.putPart(bucket, key, uploadId, part);
  const headers: Record<string, string> = { etag: part.etag };
  if (part.checksum != null)
    headers[`x-amz-checksum-${part.checksum.algorithm}`] = part.checksum.valueBase64;
  sendEmpty(context, 200, headers);
};

export const uploadPartCopy = async (context: ObjectContext): Promise<void> => {
  await readSmallBody(context);
  const { store, now } = context.server;
  const { bucket, key } = context.target;
  const partNumber = partNumberOf(context);
  const uploadId = uploadIdOf(context);
  store.getUpload(bucket, key, uploadId);
  const source = resolveCopySource(context);
  let start = 0;
  let endExclusive = source.sizeBytes;
  const rangeHeader = context.headers.get("x-amz-copy-source-range");
  if (rangeHeader != null) {
    const range = parseCopySourceRange(rangeHeader, source.sizeBytes);
    if (range == null)
      throw new S3Error(
        "InvalidArgument",
        `Range specified is not valid for source object of size: ${source.sizeBytes}`,
        { detail: { ArgumentName: "x-amz-copy-source-range", ArgumentValue: rangeHeader } },
      );
    start = range.start;
    endExclusive = range.endInclusive + 1;
  }
  const copied = await copyBytes(context, source, start, endExclusive);
  const part: StoredPart = {
    partNumber,
    etag: quotedEtag(copied.md5Hex),
    sizeBytes: endExclusive - start,
    lastModifiedMs: wholeSecond(now()),
    blob: copied.blob,
  };
  await store.putPart(bucket, key, uploadId, part);
  sendXml(
    context,
    200,
    xmlDocument(
      "CopyPartResult",
      `${xmlText("LastModified", isoDate(part.lastModifiedMs))}${xmlText("ETag", part.etag)}`,
    ),
  );
};

interface RequestedPart {
  readonly partNumber: number;
  readonly etag: string;
  readonly checksums: ReadonlyMap<string, string>;
}

const parseCompleteDocument = (body: Buffer): RequestedPart[] => {
  let document;
  try {
    document = parseXml(body.toString("utf8"));
  } catch (error) {
    if (error instanceof XmlSyntaxError) throw new S3Error("MalformedXML");
    throw error;
  }
  if (document.name !== "CompleteMultipartUpload") throw new S3Error("MalformedXML");
  const parts = childElements(document, "Part").map((part) => {
    const partNumberText = childText(part, "PartNumber")?.trim() ?? "";
    const etag = childText(part, "ETag");
    if (!/^\d{1,5}$/.test(partNumberText) || etag == null) throw new S3Error("MalformedXML");
    const checksums = new Map(
      part.children
        .filter((child) => child.name.startsWith("Checksum"))
        .map(
          (child) =>
            [child.name.slice("Checksum".length).toLowerCase(), child.text.trim()] as const,
        ),
    );
    return { partNumber: Number(partNumberText), etag: etag.trim(), checksums };
  });
  if (parts.length === 0) throw new S3Error("MalformedXML");
  return parts;
};

export const completeMultipartUpload = async (context: ObjectContext): Promise<void> => {
  const body = await readSmallBody(context);
  const { store, now, minPartSizeBytes } = context.server;
  const { bucket, key } = context.target;
  const uploadId = uploadIdOf(context);
  const requested = parseCompleteDocument(body);
  for (let index = 1; index < requested.length; index++) {
    if (requested[index]!.partNumber <= requested[index - 1]!.partNumber)
      throw new S3Error("InvalidPartOrder", undefined, { detail: { UploadId: uploadId } });
  }
  // No await from here to completeUpload(): the upload cannot change under the checks.
  const upload = store.getUpload(bucket, key, uploadId);
  const chosen = requested.map((wanted) => {
    const part = upload.parts.find((candidate) => candidate.partNumber === wanted.partNumber);
    const checksumMismatch =
      part?.checksum != null &&
      wanted.checksums.has(part.checksum.algorithm) &&
      wanted.checksums.get(part.checksum.algorithm) !== part.checksum.valueBase64;
    if (part == null || !sameEtag(part.etag, wanted.etag) || checksumMismatch) {
      throw new S3Error("InvalidPart", undefined, {
        detail: { UploadId: uploadId, PartNumber: String(wanted.partNumber), ETag: wanted.etag },
      });
    }
    return part;
  });
  chosen.slice(0, -1).forEach((part) => {
    if (part.sizeBytes < minPartSizeBytes) {
      throw new S3Error("EntityTooSmall", undefined, {
        detail: {
          ProposedSize: String(part.sizeBytes),
          MinSizeAllowed: String(minPartSizeBytes),
          PartNumber: String(part.partNumber),
          ETag: part.etag,
        },
      });
    }
  });
  const md5OfMd5s = createHash("md5");
  for (const part of chosen) md5OfMd5s.update(Buffer.from(part.etag.replaceAll('"', ""), "hex"));
  const object: StoredObject = {
    key,
    sizeBytes: chosen.reduce((total, part) => total + part.sizeBytes, 0),
    etag: `"${md5OfMd5s.digest("hex")}-${chosen.length}"`,
    lastModifiedMs: wholeSecond(now()),
    headers: upload.headers,
    blobs: chosen.map((part) => part.blob),
    multipart: true,
  };
  await store.completeUpload(upload, object, chosen, writeConditions(context.headers));
  const host = context.headers.get("host") ?? "localhost";
  const encodedKey = key.split("/").map(encodeURIComponent).join("/");
  sendXml(
    context,
    200,
    xmlDocument(
      "CompleteMultipartUploadResult",
      `${xmlText("Location", `http://${host}/${bucket}/${encodedKey}`)}${xmlText("Bucket", bucket)}` +
        `${xmlText("Key", key)}${xmlText("ETag", object.etag)}`,
    ),
  );
};

export const abortMultipartUpload = async (context: ObjectContext): Promise<void> => {
  await readSmallBody(context);
  const { store } = context.server;
  const upload = store.getUpload(context.target.bucket, context.target.key, uploadIdOf(context));
  await store.abortUpload(upload.uploadId);
  sendEmpty(context, 204);
};

export const listParts = async (context: ObjectContext): Promise<void> => {
  await readSmallBody(context);
  const { bucket, key } = context.target;
  const upload = context.server.store.getUpload(bucket, key, uploadIdOf(context));
  const maxParts = integerParameter(context, "max-parts", 1000, 1000);
  const marker = integerParameter(context, "part-number-marker", 0, MAX_PART_NUMBER);
  const remaining = upload.parts.filter((part) => part.partNumber > marker);
  const page = remaining.slice(0, maxParts);
  const isTruncated = remaining.length > page.length;
  const parts = page
    .map(
      (part) =>
        `<Part>${xmlText("PartNumber", part.partNumber)}${xmlText("LastModified", isoDate(part.lastModifiedMs))}` +
        `${xmlText("ETag", part.etag)}${xmlText("Size", part.sizeBytes)}${checksumXml(part.checksum)}</Part>`,
    )
    .join("");
  sendXml(
    context,
    200,
    xmlDocument(
      "ListPartsResult",
      `${xmlText("Bucket", bucket)}${xmlText("Key", key)}${xmlText("UploadId", upload.uploadId)}` +
        `${ownerXml(context, "Initiator")}${ownerXml(context)}<StorageClass>STANDARD</StorageClass>` +
        `${xmlText("PartNumberMarker", marker)}` +
        `${xmlText("NextPartNumberMarker", page.at(-1)?.partNumber ?? marker)}` +
        `${xmlText("MaxParts", maxParts)}${xmlText("IsTruncated", isTruncated)}` +
        `${upload.checksumAlgorithm != null ? xmlText("ChecksumAlgorithm", upload.checksumAlgorithm.toUpperCase()) : ""}` +
        parts,
    ),
  );
};

export const listMultipartUploads = async (context: BucketContext): Promise<void> => {
  await readSmallBody(context);
  const bucket = context.target.bucket;
  const query = context.query;
  const prefix = query.get("prefix") ?? "";
  const delimiter = query.get("delimiter") ?? "";
  const keyMarker = query.get("key-marker") ?? "";
  const uploadIdMarker = query.get("upload-id-marker") ?? "";
  const maxUploads = integerParameter(context, "max-uploads", 1000, 1000);
  const uploads = context.server.store
    .listUploads(bucket)
    .filter((upload) => upload.key.startsWith(prefix))
    .sort(
      (a, b) =>
        compareKeys(a.key, b.key) ||
        a.initiatedMs - b.initiatedMs ||
        compareKeys(a.uploadId, b.uploadId),
    );
  let start = 0;
  if (keyMarker !== "") {
    const markerIndex =
      uploadIdMarker !== ""
        ? uploads.findIndex(
            (upload) => upload.key === keyMarker && upload.uploadId === uploadIdMarker,
          )
        : -1;
    start =
      markerIndex >= 0
        ? markerIndex + 1
        : uploads.findIndex((upload) => compareKeys(upload.key, keyMarker) > 0);
    if (start < 0) start = uploads.length;
  }
  const entries: string[] = [];
  const commonPrefixes: string[] = [];
  let count = 0;
  let isTruncated = false;
  let nextKeyMarker = "";
  let nextUploadIdMarker = "";
  for (let index = start; index < uploads.length; index++) {
    const upload = uploads[index]!;
    const at = delimiter !== "" ? upload.key.indexOf(delimiter, prefix.length) : -1;
    const commonPrefix = at >= 0 ? upload.key.slice(0, at + delimiter.length) : undefined;
    if (commonPrefix != null && commonPrefixes.at(-1) === commonPrefix) continue;
    // Resuming after a common prefix skips every upload under it.
    if (commonPrefix != null && keyMarker !== "" && compareKeys(commonPrefix, keyMarker) <= 0)
      continue;
    if (count === maxUploads) {
      isTruncated = true;
      break;
    }
    count++;
    if (commonPrefix != null) {
      commonPrefixes.push(commonPrefix);
      nextKeyMarker = commonPrefix;
      nextUploadIdMarker = "";
      continue;
    }
    nextKeyMarker = upload.key;
    nextUploadIdMarker = upload.uploadId;
    entries.push(
      `<Upload>${xmlText("Key", upload.key)}${xmlText("UploadId", upload.uploadId)}` +
        `${ownerXml(context, "Initiator")}${ownerXml(context)}<StorageClass>STANDARD</StorageClass>` +
        `${xmlText("Initiated", isoDate(upload.initiatedMs))}</Upload>`,
    );
  }
  sendXml(
    context,
    200,
    xmlDocument(
      "ListMultipartUploadsResult",
      `${xmlText("Bucket", bucket)}${xmlText("KeyMarker", keyMarker)}${xmlText("UploadIdMarker", uploadIdMarker)}` +
        `${isTruncated ? xmlText("NextKeyMarker", nextKeyMarker) + xmlText("NextUploadIdMarker", nextUploadIdMarker) : ""}` +
        `${delimiter !== "" ? xmlText("Delimiter", delimiter) : ""}${xmlText("Prefix", prefix)}` +
        `${xmlText("MaxUploads", maxUploads)}${xmlText("IsTruncated", isTruncated)}${entries.join("")}` +
        commonPrefixes
          .map((value) => `<CommonPrefixes>${xmlText("Prefix", value)}</CommonPrefixes>`)
          .join(""),
    ),
  );
};
