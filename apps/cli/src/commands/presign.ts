// osp presign s3://bucket/key: a presigned, path-style URL against OSP (or any S3 endpoint).
import { MAX_PRESIGN_EXPIRES_SECONDS, presignUrl, uriEncode } from "@osp/sigv4";
import { nodeCryptoProvider } from "@osp/sigv4/node";
import { expectPositionals, parseCommandArgs } from "../args.ts";
import { resolveClientSettings } from "../aws-profile.ts";
import { durationOption } from "../duration.ts";
import { EXIT_OK, UsageError } from "../exit-codes.ts";
import type { Command } from "./command.ts";

/** The endpoint used when none is given: where `osp demo` listens. */
export const DEFAULT_ENDPOINT = "http://127.0.0.1:6190";
const METHODS = new Set(["GET", "PUT", "HEAD", "DELETE"]);

const HELP = `Usage: osp presign s3://BUCKET/KEY [options]

Prints a presigned URL (path style: ENDPOINT/BUCKET/KEY) that anyone holding it can use until it
expires, signed with the client's key. OSP verifies it like any signed request.

Options:
  --method M          GET (default), PUT, HEAD or DELETE
  --expires T         lifetime: seconds ("900") or a duration ("15m", "1h", "7d"); default 1h, max 7d
  --endpoint URL      OSP's URL; default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's
                      endpoint_url, else ${DEFAULT_ENDPOINT} (osp demo)
  --region R          default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else us-east-1
  --access-key ID     the client's access key id (with --secret-key)
  --secret-key S      the client's secret
  --profile NAME      take key, region and endpoint from ~/.aws/credentials and ~/.aws/config
  -h, --help          show this help

Without flags the key comes from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else from the profile
named by AWS_PROFILE (or "default").

Example:
  url=$(osp presign s3://demo-bucket/README.md --expires 15m) && curl "$url"
  osp presign s3://demo-bucket/upload.bin --method PUT | xargs -I{} curl -T upload.bin {}

Exit codes: 0 ok, 2 usage error (no key, bad URI, bad duration).`;

/** Splits `s3://bucket/key` (key optional). */
export const parseS3Uri = (uri: string): { bucket: string; key: string } | undefined => {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(uri);
  if (match == null) return undefined;
  return { bucket: match[1]!, key: match[2] ?? "" };
};

/** `osp presign`. */
export const presignCommand: Command = {
  name: "presign",
  help: HELP,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs("presign", args, {
      method: { type: "string", default: "GET" },
      expires: { type: "string", default: "1h" },
      endpoint: { type: "string" },
      region: { type: "string" },
      "access-key": { type: "string" },
      "secret-key": { type: "string" },
      profile: { type: "string" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      io.stdout.write(`${HELP}\n`);
      return EXIT_OK;
    }
    expectPositionals("presign", positionals, 1);
    const uri = positionals[0];
    if (uri == null) throw new UsageError("missing s3://BUCKET/KEY", "presign");
    const target = parseS3Uri(uri);
    if (target == null) throw new UsageError(`expected s3://BUCKET/KEY (got "${uri}")`, "presign");
    const method = values.method.toUpperCase();
    if (!METHODS.has(method))
      throw new UsageError(
        `--method must be GET, PUT, HEAD or DELETE (got "${values.method}")`,
        "presign",
      );
    const expiresMs = durationOption("presign", "expires", values.expires);
    const expiresInSeconds = expiresMs / 1000;
    if (
      !Number.isInteger(expiresInSeconds) ||
      expiresInSeconds < 1 ||
      expiresInSeconds > MAX_PRESIGN_EXPIRES_SECONDS
    ) {
      throw new UsageError(
        `--expires must be whole seconds from 1s to 7d (got "${values.expires}")`,
        "presign",
      );
    }
    const client = resolveClientSettings(
      "presign",
      {
        ...(values["access-key"] != null ? { accessKey: values["access-key"] } : {}),
        ...(values["secret-key"] != null ? { secretKey: values["secret-key"] } : {}),
        ...(values.profile != null ? { profile: values.profile } : {}),
      },
      io,
    );
    const endpoint =
      values.endpoint ??
      (io.env.AWS_ENDPOINT_URL_S3 ||
        io.env.AWS_ENDPOINT_URL ||
        client.endpointUrl ||
        DEFAULT_ENDPOINT);
    if (!/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/i.test(endpoint)) {
      throw new UsageError(
        `--endpoint must be an http(s) URL without query (got "${endpoint}")`,
        "presign",
      );
    }
    const region =
      values.region ??
      (io.env.AWS_REGION || io.env.AWS_DEFAULT_REGION || client.region || "us-east-1");
    const keyPath = target.key === "" ? "" : `/${uriEncode(target.key, { encodeSlash: false })}`;
    const url = `${endpoint.replace(/\/+$/, "")}/${uriEncode(target.bucket)}${keyPath}`;
    const presigned = presignUrl(url, {
      method,
      credentials: client.credentials,
      region,
      now: io.now(),
      expiresInSeconds,
      crypto: nodeCryptoProvider,
    });
    io.stdout.write(`${presigned}\n`);
    return EXIT_OK;
  },
};
