/** A throw-away certificate authority and server certificates, made with the openssl CLI. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCa {
  readonly dir: string;
  /** PEM of the CA certificate. */
  readonly cert: string;
  readonly certFile: string;
  /** Issue a server certificate for localhost and 127.0.0.1. */
  issue(name: string): { key: string; cert: string };
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/** Create a CA in a new temp dir (EC keys: fast). */
export function createTestCa(label: string): TestCa {
  const dir = mkdtempSync(join(tmpdir(), `ue-ca-${label}-`));
  openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      `/CN=ue test CA ${label}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
  let serial = 1;
  return {
    dir,
    cert: readFileSync(join(dir, "ca.pem"), "utf8"),
    certFile: join(dir, "ca.pem"),
    issue(name: string) {
      openssl(
        [
          "req",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:prime256v1",
          "-nodes",
          "-keyout",
          `${name}.key`,
          "-out",
          `${name}.csr`,
          "-subj",
          `/CN=${name}`,
        ],
        dir,
      );
      writeFileSync(
        join(dir, `${name}.ext`),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
      );
      openssl(
        [
          "x509",
          "-req",
          "-in",
          `${name}.csr`,
          "-CA",
          "ca.pem",
          "-CAkey",
          "ca.key",
          "-set_serial",
          String(serial++),
          "-days",
          "2",
          "-out",
          `${name}.pem`,
          "-extfile",
          `${name}.ext`,
        ],
        dir,
      );
      return {
        key: readFileSync(join(dir, `${name}.key`), "utf8"),
        cert: readFileSync(join(dir, `${name}.pem`), "utf8"),
      };
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
