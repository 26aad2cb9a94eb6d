import { connect, constants as http2 } from "node:http2";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { createAwsCliProfile, runAws, type AwsCliProfile } from "./support/aws-cli.ts";
import { startCephBehindOsp, type CephBehindOsp } from "./support/ceph-osp.ts";
import {
  createAwsCliDriver,
  createBoto3Driver,
  createSdkDriver,
  type S3ClientDriver,
} from "./support/drivers.ts";
import { makeTempDir, sha256File, sha256Hex, writeRandomFile } from "./support/files.ts";
import { cellTest } from "./support/harness.ts";
import { CLIENT_KEY } from "./support/keys.ts";
import { MatrixRecorder } from "./support/matrix.ts";
import { CommandError, runCommand } from "./support/process.ts";
import { generateTestCertificates, type TestCertificates } from "./support/tls.ts";

// OSP's HTTPS listener (HTTP/1.1 and HTTP/2 by ALPN) with a certificate made for this run by a
// throw-away CA, in front of Ceph RGW. The clients either skip verification or trust that CA.
const BACKEND = "Ceph RGW";
const matrix = new MatrixRecorder("3-https");
const column = (client: string) => `${client} · ${BACKEND}`;
const SMALL_BYTES = 96 * 1024 + 11;
const MULTIPART_BYTES = 12 * 1024 * 1024 + 3;

let lane: CephBehindOsp | undefined;
let dir: { path: string; remove(): Promise<void> };
let certificates: TestCertificates;
let httpsUrl: string;
let profile: AwsCliProfile;
const drivers: S3ClientDriver[] = [];
const files = { small: "", multipart: "" };
const hashes = { small: "", multipart: "" };
const out = (name: string) => join(dir.path, name);
const bucket = () => lane!.target.staticBucket;
const cell = (client: string, row: string, body: () => Promise<void>) =>
  cellTest(matrix, row, column(client), body, () => lane?.watch);

beforeAll(async () => {
  dir = await makeTempDir("osp-e2e-https");
  certificates = await generateTestCertificates(dir.path);
  lane = await startCephBehindOsp({
    httpsPort: 0,
    tlsCert: certificates.serverCertPem,
    tlsKey: certificates.serverKeyPem,
  });
  expect(lane.osp.httpsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  httpsUrl = lane.osp.httpsUrl!;
  profile = await createAwsCliProfile({ dir: dir.path, endpointUrl: httpsUrl, ...CLIENT_KEY });
  files.small = out("small.bin");
  files.multipart = out("multipart.bin");
  hashes.small = await writeRandomFile(files.small, SMALL_BYTES);
  hashes.multipart = await writeRandomFile(files.multipart, MULTIPART_BYTES);
});

afterAll(async () => {
  await Promise.all(drivers.map((driver) => driver.close()));
  await lane?.cleanup();
  await dir?.remove();
  console.log(matrix.flush());
});

cell(
  "aws-cli",
  "HTTPS, self-signed: aws-cli --no-verify-ssl — PUT, GET SHA-256, ls --summarize",
  async () => {
    const driver = createAwsCliDriver(profile, { globalArgs: ["--no-verify-ssl"] });
    await driver.putObject(bucket(), "https/no-verify.bin", files.small);
    await driver.getObject(bucket(), "https/no-verify.bin", out("no-verify.get"));
    expect(await sha256File(out("no-verify.get"))).toBe(hashes.small);
    const { stdout } = await runAws(
      profile,
      ["s3", "ls", `s3://${bucket()}/https/`, "--recursive", "--summarize"],
      {
        globalArgs: ["--no-verify-ssl"],
      },
    );
    expect(stdout).toMatch(/^Total Objects: 1$/m);
  },
);

cell(
  "aws-cli",
  "HTTPS, self-signed: aws-cli --ca-bundle — 12 MiB `aws s3 cp` up and down, SHA-256",
  async () => {
    const driver = createAwsCliDriver(profile, {
      globalArgs: ["--ca-bundle", certificates.caCertPath],
    });
    await driver.multipartUpload(bucket(), "https/ca-bundle.bin", files.multipart);
    await driver.downloadFile(bucket(), "https/ca-bundle.bin", out("ca-bundle.get"));
    expect(await sha256File(out("ca-bundle.get"))).toBe(hashes.multipart);
  },
);

cell(
  "aws-cli",
  "HTTPS, self-signed: aws-cli with neither flag refuses the certificate",
  async () => {
    const error = await runAws(profile, ["s3api", "list-objects-v2", "--bucket", bucket()]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).result.stderr).toMatch(
      /CERTIFICATE_VERIFY_FAILED|certificate verify failed/i,
    );
  },
);

cell(
  "SDK",
  "HTTPS, self-signed: SDK trusting the CA — stream PUT (aws-chunked + CRC trailer over TLS), GET SHA-256",
  async () => {
    const driver = createSdkDriver({
      endpoint: httpsUrl,
      ...CLIENT_KEY,
      caPem: certificates.caCertPem,
    });
    drivers.push(driver);
    await driver.uploadFile(bucket(), "https/sdk-stream.bin", files.small);
    await driver.getObject(bucket(), "https/sdk-stream.bin", out("sdk.get"));
    expect(await sha256File(out("sdk.get"))).toBe(hashes.small);
    await driver.multipartUpload(bucket(), "https/sdk-multipart.bin", files.multipart);
    await driver.downloadFile(bucket(), "https/sdk-multipart.bin", out("sdk-multipart.get"));
    expect(await sha256File(out("sdk-multipart.get"))).toBe(hashes.multipart);
  },
);

cell(
  "boto3",
  "HTTPS, self-signed: boto3 verify=<CA bundle> — PUT, GET SHA-256, presigned GET over HTTPS",
  async () => {
    const driver = createBoto3Driver({
      endpoint: httpsUrl,
      ...CLIENT_KEY,
      verify: certificates.caCertPath,
    });
    drivers.push(driver);
    await driver.uploadFile(bucket(), "https/boto3.bin", files.small);
    await driver.getObject(bucket(), "https/boto3.bin", out("boto3.get"));
    expect(await sha256File(out("boto3.get"))).toBe(hashes.small);
    const url = await driver.presignGet(bucket(), "https/boto3.bin");
    expect(url.startsWith(`${httpsUrl}/`)).toBe(true);
    // The presigned URL fetched over TLS by an independent client (curl), trusting the same CA.
    const { stdout } = await runCommand(
      "curl",
      [
        "-sS",
        "--fail",
        "--cacert",
        certificates.caCertPath,
        "-o",
        out("curl.get"),
        "-w",
        "%{http_code}",
        url,
      ],
      {
        timeoutMs: 30_000,
      },
    );
    expect(stdout).toBe("200");
    expect(await sha256File(out("curl.get"))).toBe(hashes.small);
  },
);

cell("node:http2", "HTTP/2 (node:http2, ALPN h2): presigned GET SHA-256", async () => {
  const sdk = createSdkDriver({ endpoint: httpsUrl, ...CLIENT_KEY, caPem: certificates.caCertPem });
  drivers.push(sdk);
  const key = "https/http2.bin";
  await sdk.putObject(bucket(), key, files.small);
  const url = new URL(await sdk.presignGet(bucket(), key));
  const session = connect(httpsUrl, { ca: certificates.caCertPem });
  try {
    await new Promise<void>((resolve, reject) => {
      session.once("connect", () => resolve());
      session.once("error", reject);
    });
    expect(session.alpnProtocol).toBe("h2");
    const { status, body } = await new Promise<{ status: number; body: Buffer }>(
      (resolve, reject) => {
        const request = session.request({
          [http2.HTTP2_HEADER_PATH]: `${url.pathname}${url.search}`,
        });
        const chunks: Buffer[] = [];
        let status = 0;
        request.on("response", (headers) => {
          status = Number(headers[http2.HTTP2_HEADER_STATUS]);
        });
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => resolve({ status, body: Buffer.concat(chunks) }));
        request.on("error", reject);
        request.setTimeout(30_000, () => request.close(http2.NGHTTP2_CANCEL));
        request.end();
      },
    );
    expect(status, body.toString("utf8").slice(0, 300)).toBe(200);
    expect(sha256Hex(body)).toBe(hashes.small);
    expect(await readFile(files.small)).toEqual(body);
  } finally {
    session.close();
  }
});
