// ListBuckets (`GET /`) answered by the proxy itself: the configured buckets the validator lets
// the caller see. Nothing is forwarded: the backends' own bucket lists are not the proxy's.

import { escapeXml } from "./errors.ts";

/** One bucket of a ListBuckets answer. @public */
export interface ListedBucket {
  readonly name: string;
  /** Epoch ms; the proxy does not know backend creation dates and uses a fixed value. */
  readonly creationDateMs: number;
}

/**
 * Renders the `ListAllMyBucketsResult` document for `ownerId` (the caller's access key id).
 * Buckets are sorted by name, as S3 does.
 * @public
 */
export const renderListBuckets = (
  ownerId: string,
  buckets: ReadonlyArray<ListedBucket>,
): string => {
  const items = [...buckets]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(
      (bucket) =>
        `<Bucket><Name>${escapeXml(bucket.name)}</Name>` +
        `<CreationDate>${new Date(bucket.creationDateMs).toISOString()}</CreationDate></Bucket>`,
    )
    .join("");
  const owner = escapeXml(ownerId);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
    `<Owner><ID>${owner}</ID><DisplayName>${owner}</DisplayName></Owner>` +
    `<Buckets>${items}</Buckets></ListAllMyBucketsResult>`
  );
};
