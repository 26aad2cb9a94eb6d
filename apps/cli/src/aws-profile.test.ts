import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseIni, readAwsProfile, resolveClientSettings } from "./aws-profile.ts";
import { UsageError } from "./exit-codes.ts";

const home = mkdtempSync(join(tmpdir(), "osp-aws-profile-"));
writeFileSync(
  join(home, "credentials"),
  "[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key = default-secret\n\n[osps]\naws_access_key_id = MYLOCAL123\naws_secret_access_key = my_private_secret\naws_session_token = tok\n\n[nokey]\nregion = eu-de\n",
);
writeFileSync(
  join(home, "config"),
  "# comment\n[profile osps]\nregion = eu-west-3\noutput = json\nservices = osp-services\ns3 =\n    addressing_style = path\n\n[services osp-services]\ns3 =\n  endpoint_url = https://localhost:8443\n\n[profile direct]\naws_access_key_id = DIRECTKEY\naws_secret_access_key = direct-secret\nendpoint_url = http://127.0.0.1:6190\n",
);
const io = (env: Record<string, string> = {}) => ({
  homeDir: "/nonexistent",
  env: {
    AWS_SHARED_CREDENTIALS_FILE: join(home, "credentials"),
    AWS_CONFIG_FILE: join(home, "config"),
    ...env,
  },
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe("parseIni", () => {
  it("reads sections, keys and nested settings, without inline comments", () => {
    const sections = parseIni(
      "[a]\nk = v # not a comment\ns3 =\n  addressing_style = path\nz=1\n; c\n[b]\n",
    );
    expect(sections.get("a")).toEqual({
      k: "v # not a comment",
      "s3.addressing_style": "path",
      z: "1",
    });
    expect(sections.get("b")).toEqual({});
  });
});

describe("readAwsProfile", () => {
  it("merges credentials, region and the services endpoint (the seed's layout)", () => {
    expect(readAwsProfile("osps", io())).toEqual({
      name: "osps",
      credentials: {
        accessKeyId: "MYLOCAL123",
        secretAccessKey: "my_private_secret",
        sessionToken: "tok",
      },
      region: "eu-west-3",
      endpointUrl: "https://localhost:8443",
    });
  });

  it("reads keys and endpoint_url from the config file", () => {
    expect(readAwsProfile("direct", io())).toMatchObject({
      credentials: { accessKeyId: "DIRECTKEY", secretAccessKey: "direct-secret" },
      endpointUrl: "http://127.0.0.1:6190",
    });
  });

  it("returns undefined for an unknown profile", () => {
    expect(readAwsProfile("missing", io())).toBeUndefined();
  });
});

describe("resolveClientSettings", () => {
  it("prefers flags, then --profile, then the environment, then the default profile", () => {
    expect(
      resolveClientSettings(
        "presign",
        { accessKey: "F", secretKey: "f" },
        io({ AWS_ACCESS_KEY_ID: "E", AWS_SECRET_ACCESS_KEY: "e" }),
      ).credentials.accessKeyId,
    ).toBe("F");
    expect(
      resolveClientSettings(
        "presign",
        { profile: "osps" },
        io({ AWS_ACCESS_KEY_ID: "E", AWS_SECRET_ACCESS_KEY: "e" }),
      ).credentials.accessKeyId,
    ).toBe("MYLOCAL123");
    expect(
      resolveClientSettings(
        "presign",
        {},
        io({ AWS_ACCESS_KEY_ID: "E", AWS_SECRET_ACCESS_KEY: "e" }),
      ).credentials.accessKeyId,
    ).toBe("E");
    expect(resolveClientSettings("presign", {}, io()).credentials.accessKeyId).toBe("DEFAULTKEY");
    expect(resolveClientSettings("presign", {}, io({ AWS_PROFILE: "osps" })).source).toBe(
      "profile osps",
    );
  });

  it("rejects half a key pair, unknown profiles and profiles without keys", () => {
    expect(() => resolveClientSettings("presign", { accessKey: "F" }, io())).toThrow(UsageError);
    expect(() => resolveClientSettings("presign", { profile: "missing" }, io())).toThrow(
      /profile "missing" not found/,
    );
    expect(() => resolveClientSettings("presign", { profile: "nokey" }, io())).toThrow(
      /has no aws_access_key_id/,
    );
    expect(() =>
      resolveClientSettings("presign", {}, { homeDir: "/nonexistent", env: {} }),
    ).toThrow(/no client key/);
  });
});
