"""boto3 S3 operations for OSP's end-to-end tests, one long-lived process per client.

The first stdin line is the client spec {"endpoint", "accessKeyId", "secretAccessKey", "region",
"verify"} (on stdin, so the secret never shows on a command line). Every further line is a command
{"id", "op", "args"} answered by one stdout line {"id", "result"} or, for an S3 error,
{"id", "error": {"code", "status", "message"}}; any other failure answers
{"id", "crash": "<text>"}. One process spares the interpreter and boto3 start-up (about half a
second) on every call. The client is boto3 at its defaults except for the endpoint, path-style
addressing (the seed's setup) and, for HTTPS, the certificate check.
Run with Debian's /usr/bin/python3 (python3-boto3).
"""

import base64
import json
import sys

import boto3
import botocore.config
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError


def make_client(spec, signature_version=None):
    config = {"s3": {"addressing_style": "path"}}
    if signature_version is not None:
        config["signature_version"] = signature_version
    return boto3.session.Session().client(
        "s3",
        endpoint_url=spec["endpoint"],
        aws_access_key_id=spec["accessKeyId"],
        aws_secret_access_key=spec["secretAccessKey"],
        region_name=spec.get("region", "us-east-1"),
        verify=spec.get("verify", True),
        config=botocore.config.Config(**config),
    )


def response_head(response):
    meta = response.get("ResponseMetadata", {})
    return {"status": meta.get("HTTPStatusCode"), "headers": meta.get("HTTPHeaders", {})}


def op_list_buckets(s3, a):
    return {"buckets": [b["Name"] for b in s3.list_buckets()["Buckets"]]}


def op_put_object(s3, a):
    kwargs = {"Bucket": a["bucket"], "Key": a["key"]}
    if "file" in a:
        with open(a["file"], "rb") as body:
            kwargs["Body"] = body.read()
    else:
        kwargs["Body"] = base64.b64decode(a.get("bodyBase64", ""))
    if "contentType" in a:
        kwargs["ContentType"] = a["contentType"]
    if "metadata" in a:
        kwargs["Metadata"] = a["metadata"]
    response = s3.put_object(**kwargs)
    return {"etag": response.get("ETag")}


def op_upload_file(s3, a):
    threshold = a.get("multipartThresholdBytes", 8 * 1024 * 1024)
    config = TransferConfig(multipart_threshold=threshold, multipart_chunksize=max(threshold, 5 * 1024 * 1024))
    s3.upload_file(a["file"], a["bucket"], a["key"], Config=config)
    return {}


def op_download_file(s3, a):
    s3.download_file(a["bucket"], a["key"], a["out"])
    return {}


def op_get_object(s3, a):
    kwargs = {"Bucket": a["bucket"], "Key": a["key"]}
    if "range" in a:
        kwargs["Range"] = a["range"]
    response = s3.get_object(**kwargs)
    with open(a["out"], "wb") as out:
        for chunk in response["Body"].iter_chunks(1024 * 1024):
            out.write(chunk)
    return {
        "contentLength": response.get("ContentLength"),
        "contentRange": response.get("ContentRange"),
        "contentType": response.get("ContentType"),
        "metadata": response.get("Metadata", {}),
        "status": response["ResponseMetadata"]["HTTPStatusCode"],
    }


def op_head_object(s3, a):
    response = s3.head_object(Bucket=a["bucket"], Key=a["key"])
    return {
        "contentLength": response.get("ContentLength"),
        "contentType": response.get("ContentType"),
        "etag": response.get("ETag"),
        "metadata": response.get("Metadata", {}),
    }


def op_delete_object(s3, a):
    s3.delete_object(Bucket=a["bucket"], Key=a["key"])
    return {}


def op_list_objects_v2(s3, a):
    """Follows continuation tokens by hand so each page is visible to the test."""
    pages = []
    kwargs = {"Bucket": a["bucket"], "Prefix": a.get("prefix", "")}
    if "maxKeys" in a:
        kwargs["MaxKeys"] = a["maxKeys"]
    if "delimiter" in a:
        kwargs["Delimiter"] = a["delimiter"]
    while True:
        response = s3.list_objects_v2(**kwargs)
        pages.append(
            {
                "keys": [o["Key"] for o in response.get("Contents", [])],
                "commonPrefixes": [p["Prefix"] for p in response.get("CommonPrefixes", [])],
                "isTruncated": response.get("IsTruncated", False),
            }
        )
        if not response.get("IsTruncated"):
            return {"pages": pages}
        kwargs["ContinuationToken"] = response["NextContinuationToken"]


def op_copy_object(s3, a):
    kwargs = {
        "Bucket": a["bucket"],
        "Key": a["key"],
        "CopySource": {"Bucket": a["sourceBucket"], "Key": a["sourceKey"]},
    }
    if "metadata" in a:
        kwargs["Metadata"] = a["metadata"]
        kwargs["MetadataDirective"] = "REPLACE"
    response = s3.copy_object(**kwargs)
    return {"etag": response.get("CopyObjectResult", {}).get("ETag")}


def op_upload_part_copy(s3, a):
    """A one-part multipart upload whose part is copied from another object."""
    upload_id = s3.create_multipart_upload(Bucket=a["bucket"], Key=a["key"])["UploadId"]
    try:
        part = s3.upload_part_copy(
            Bucket=a["bucket"],
            Key=a["key"],
            UploadId=upload_id,
            PartNumber=1,
            CopySource={"Bucket": a["sourceBucket"], "Key": a["sourceKey"]},
        )
        s3.complete_multipart_upload(
            Bucket=a["bucket"],
            Key=a["key"],
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]},
        )
    except Exception:
        s3.abort_multipart_upload(Bucket=a["bucket"], Key=a["key"], UploadId=upload_id)
        raise
    return {}


def op_presign(s3, a):
    """botocore 1.29 presigns S3 URLs with SigV2 query auth by default; signatureVersion "s3v4" asks for SigV4."""
    if "signatureVersion" in a:
        s3 = make_client(a["client"], a["signatureVersion"])
    url = s3.generate_presigned_url(
        a["method"], Params={"Bucket": a["bucket"], "Key": a["key"]}, ExpiresIn=a.get("expiresInSeconds", 300)
    )
    return {"url": url}


OPERATIONS = {name[3:]: fn for name, fn in globals().items() if name.startswith("op_")}


def answer(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main():
    spec = json.loads(sys.stdin.readline())
    s3 = make_client(spec)
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        try:
            args = dict(command.get("args", {}), client=spec)
            answer({"id": command["id"], "result": OPERATIONS[command["op"]](s3, args)})
        except ClientError as error:
            err = error.response.get("Error", {})
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            answer({"id": command["id"], "error": {"code": err.get("Code"), "status": status, "message": err.get("Message")}})
        except Exception as error:  # noqa: BLE001 - reported to the test, which fails with it
            answer({"id": command["id"], "crash": f"{type(error).__name__}: {error}"})


if __name__ == "__main__":
    main()
