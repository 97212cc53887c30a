/** Types of what TypeScript callers use from secured.mjs, which stays plain JavaScript. */

/** A self-signed certificate authority made with keytool in `dir`: `<name>.pem` and `<name>.p12`. */
export function makeCertificateAuthority(options: {
  dir: string;
  name?: string;
  commonName?: string;
}): { caFile: string; keystore: string; storePassword: string; alias: string };
