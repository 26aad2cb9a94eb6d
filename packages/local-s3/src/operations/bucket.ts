// Service- and bucket-level operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
// GetBucketLocation, GetBucketVersioning, ListObjects (v1) and ListObjectsV2.
import {
  isoDate,
  readSmallBody,
  sendEmpty,
  sendXml,
  type BucketContext,
  type RequestContext,
} from "../context.ts";
import { S3Error } from "../errors.ts";
import {
  compareKeys,
  decodeContinuationToken,
  encodeContinuationToken,
  listPage,
  urlEncodeKey,
} from "../listing.ts";
import { assertBucketName } from "../names.ts";
import { XmlSyntaxError, childText, parseXml, xmlDocument, xmlText } from "../xml.ts";

/** `<Owner>` element: local-s3 has one owner whoever signs. */
export const ownerXml = (context: RequestContext, element = "Owner"): string =>
  `<${element}><ID>${context.server.ownerId}</ID><DisplayName>local-s3</DisplayName></${element}>`;

/** Parses a non-negative integer query parameter with a default and a ceiling. */
export const integerParameter = (
  context: RequestContext,
  name: string,
  defaultValue: number,
  maximum: number,
): number => {
  const raw = context.query.get(name);
  if (raw == null || raw === "") return defaultValue;
  if (!/^\d{1,10}$/.test(raw))
    throw new S3Error(
      "InvalidArgument",
      `Provided ${name} not an integer or within integer range`,
      {
        detail: { ArgumentName: name, ArgumentValue: raw },
      },
    );
  return Math.min(Number(raw), maximum);
};

export const listBuckets = async (context: RequestContext): Promise<void> => {
  await readSmallBody(context);
  const prefix = context.query.get("prefix") ?? "";
  const maxBuckets = integerParameter(context, "max-buckets", 10_000, 10_000);
  const token = context.query.get("continuation-token");
  const after = token != null && token !== "" ? decodeContinuationToken(token) : undefined;
  const buckets = context.server.store
    .listBuckets()
    .filter((bucket) => bucket.name.startsWith(prefix))
    .filter((bucket) => after == null || compareKeys(bucket.name, after) > 0);
  const page = buckets.slice(0, maxBuckets);
  const truncated = buckets.length > page.length;
  const items = page
    .map(
      (bucket) =>
        `<Bucket>${xmlText("Name", bucket.name)}${xmlText("CreationDate", isoDate(bucket.createdMs))}` +
        `${xmlText("BucketRegion", context.server.region)}</Bucket>`,
    )
    .join("");
  const next = truncated
    ? xmlText("ContinuationToken", encodeContinuationToken(page.at(-1)!.name))
    : "";
  const prefixXml = context.query.has("prefix") ? xmlText("Prefix", prefix) : "";
  sendXml(
    context,
    200,
    xmlDocument(
      "ListAllMyBucketsResult",
      `${ownerXml(context)}<Buckets>${items}</Buckets>${next}${prefixXml}`,
    ),
  );
};

export const createBucket = async (context: BucketContext): Promise<void> => {
  const name = context.target.bucket;
  assertBucketName(name);
  const body = await readSmallBody(context);
  if (body.length > 0) {
    let constraint: string | undefined;
    try {
      constraint = childText(parseXml(body.toString("utf8")), "LocationConstraint");
    } catch (error) {
      if (error instanceof XmlSyntaxError) throw new S3Error("MalformedXML");
      throw error;
    }
    // Ceph accepts any constraint; S3 only its own region.
    if (
      context.server.profile === "aws" &&
      constraint != null &&
      constraint !== "" &&
      constraint !== context.server.region
    ) {
      throw new S3Error(
        "IllegalLocationConstraintException",
        `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      );
    }
  }
  if (!context.server.store.createBucket(name, context.server.now())) {
    throw new S3Error("BucketAlreadyOwnedByYou", undefined, { detail: { BucketName: name } });
  }
  sendEmpty(context, 200, { location: `/${name}` });
};

export const headBucket = async (context: BucketContext): Promise<void> => {
  await readSmallBody(context);
  context.server.store.requireBucket(context.target.bucket);
  sendEmpty(context, 200, { "x-amz-bucket-region": context.server.region });
};

export const deleteBucket = async (context: BucketContext): Promise<void> => {
  await readSmallBody(context);
  await context.server.store.deleteBucket(context.target.bucket);
  sendEmpty(context, 204);
};

export const getBucketLocation = async (context: BucketContext): Promise<void> => {
  await readSmallBody(context);
  context.server.store.requireBucket(context.target.bucket);
  // us-east-1 is reported as an empty constraint, as S3 does.
  const region = context.server.region === "us-east-1" ? "" : context.server.region;
  sendXml(context, 200, xmlDocument("LocationConstraint", region));
};

export const getBucketVersioning = async (context: BucketContext): Promise<void> => {
  await readSmallBody(context);
  context.server.store.requireBucket(context.target.bucket);
  // Versioning was never enabled: S3 answers with an empty configuration.
  sendXml(context, 200, xmlDocument("VersioningConfiguration", ""));
};

/** ListObjects (v1, marker) and ListObjectsV2 (continuation token, start-after). */
export const listObjects = async (context: BucketContext, version: 1 | 2): Promise<void> => {
  await readSmallBody(context);
  const { store } = context.server;
  const bucket = context.target.bucket;
  store.requireBucket(bucket);
  const query = context.query;
  const prefix = query.get("prefix") ?? "";
  const delimiter = query.get("delimiter") ?? "";
  const encodingType = query.get("encoding-type");
  if (encodingType != null && encodingType !== "url")
    throw new S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", {
      detail: { ArgumentName: "encoding-type", ArgumentValue: encodingType },
    });
  const maxKeys = integerParameter(context, "max-keys", 1000, 1000);
  const encode = (text: string) => (encodingType === "url" ? urlEncodeKey(text) : text);

  let after: string | undefined;
  const token = query.get("continuation-token");
  const startAfter = query.get("start-after");
  const marker = query.get("marker");
  if (version === 2 && token != null) {
    after = decodeContinuationToken(token);
    if (after == null)
      throw new S3Error("InvalidArgument", "The continuation token provided is incorrect", {
        detail: { ArgumentName: "continuation-token" },
      });
  } else if (version === 2 && startAfter != null && startAfter !== "") after = startAfter;
  else if (version === 1 && marker != null && marker !== "") after = marker;

  const page = listPage(store.sortedKeys(bucket), {
    prefix,
    delimiter,
    maxKeys,
    ...(after != null ? { after } : {}),
  });
  const withOwner = version === 1 || query.get("fetch-owner") === "true";
  const contents = page.keys
    .map((key) => {
      const object = store.getObject(bucket, key)!;
      return (
        `<Contents>${xmlText("Key", encode(key))}${xmlText("LastModified", isoDate(object.lastModifiedMs))}` +
        `${xmlText("ETag", object.etag)}${xmlText("Size", object.sizeBytes)}` +
        `${object.checksum != null ? xmlText("ChecksumAlgorithm", object.checksum.algorithm.toUpperCase()) : ""}` +
        `<StorageClass>STANDARD</StorageClass>${withOwner ? ownerXml(context) : ""}</Contents>`
      );
    })
    .join("");
  const commonPrefixes = page.commonPrefixes
    .map(
      (commonPrefix) =>
        `<CommonPrefixes>${xmlText("Prefix", encode(commonPrefix))}</CommonPrefixes>`,
    )
    .join("");
  const delimiterXml = delimiter !== "" ? xmlText("Delimiter", encode(delimiter)) : "";
  const encodingXml = encodingType != null ? xmlText("EncodingType", encodingType) : "";
  let head: string;
  if (version === 2) {
    head =
      `${xmlText("Name", bucket)}${xmlText("Prefix", encode(prefix))}${delimiterXml}` +
      `${xmlText("MaxKeys", maxKeys)}${encodingXml}` +
      `${xmlText("KeyCount", page.keys.length + page.commonPrefixes.length)}` +
      `${xmlText("IsTruncated", page.isTruncated)}` +
      `${token != null ? xmlText("ContinuationToken", token) : ""}` +
      `${page.isTruncated && page.lastEntry != null ? xmlText("NextContinuationToken", encodeContinuationToken(page.lastEntry)) : ""}` +
      `${startAfter != null ? xmlText("StartAfter", encode(startAfter)) : ""}`;
  } else {
    // Like S3, NextMarker only when a delimiter is given; clients use the last key otherwise.
    const nextMarker =
      page.isTruncated && delimiter !== "" && page.lastEntry != null
        ? xmlText("NextMarker", encode(page.lastEntry))
        : "";
    head =
      `${xmlText("Name", bucket)}${xmlText("Prefix", encode(prefix))}` +
      `${xmlText("Marker", encode(marker ?? ""))}${nextMarker}${xmlText("MaxKeys", maxKeys)}` +
      `${delimiterXml}${xmlText("IsTruncated", page.isTruncated)}${encodingXml}`;
  }
  sendXml(context, 200, xmlDocument("ListBucketResult", `${head}${contents}${commonPrefixes}`));
};
