// Independent verifier for the OpenBadgeCredential (npm jose + jsonld; nothing of ours).
// stdin: {"jwt": "...", "profile": {issuer Profile}, "contexts": {"<url>": "<local file>"}}
// stdout: one JSON line {"ok": true, "kid": ..., "expandedTypes": [...]} or {"ok": false, "error": ...}
import { readFileSync } from "node:fs";
import * as jose from "jose";
import jsonld from "jsonld";

const input = JSON.parse(readFileSync(0, "utf8"));
const contexts = Object.fromEntries(
  Object.entries(input.contexts).map(([url, file]) => [url, JSON.parse(readFileSync(file, "utf8"))]),
);
// Contexts come from local files only: any other URL is an error, never a fetch.
const documentLoader = async (url) => {
  if (!(url in contexts)) throw new Error(`context not available offline: ${url}`);
  return { contextUrl: null, documentUrl: url, document: contexts[url] };
};

try {
  const header = jose.decodeProtectedHeader(input.jwt);
  if (header.alg !== "EdDSA") throw new Error(`alg ${header.alg}`);
  // The header names a verification method of the issuer Profile (<issuer.id>#<kid>).
  if (!(input.profile.assertionMethod || []).includes(header.kid)) throw new Error(`kid ${header.kid} not in the issuer's Profile`);
  const method = (input.profile.verificationMethod || []).find((m) => m.id === header.kid);
  if (!method) throw new Error(`kid ${header.kid} not in the issuer's Profile`);
  const jwk = method.publicKeyJwk;
  const key = await jose.importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, "EdDSA");
  const { payload } = await jose.jwtVerify(input.jwt, key, { algorithms: ["EdDSA"], typ: "vc+jwt" });
  if (payload.iss !== payload.issuer.id || payload.jti !== payload.id) throw new Error("JWT claims do not mirror the credential");
  if (payload.iss !== input.profile.id) throw new Error("the credential names another issuer than the Profile");
  const credential = { ...payload };
  for (const claim of ["iss", "jti", "nbf", "sub", "iat", "exp"]) delete credential[claim];
  // OB 3.0 requires credentialSchema.type "1EdTechJsonSchemaValidator2019", a bare name that the OB 3.0.3
  // context does not define (a gap of the context, not of the credential): safe mode would call it a
  // relative IRI. It is checked as a string here and expanded as its absolute IRI; every other term
  // must be defined by the contexts (no silently dropped properties).
  const schemaTypes = (credential.credentialSchema || []).map((s) => s.type);
  if (credential.credentialSchema) {
    credential.credentialSchema = credential.credentialSchema.map((s) =>
      s.type === "1EdTechJsonSchemaValidator2019" ? { ...s, type: "https://purl.imsglobal.org/spec/vc/ob/vocab.html#1EdTechJsonSchemaValidator2019" } : s);
  }
  const expanded = await jsonld.expand(credential, { documentLoader, safe: true });
  const types = expanded[0]["@type"];
  const subject = expanded[0]["https://www.w3.org/2018/credentials#credentialSubject"][0];
  const achievement = subject["https://purl.imsglobal.org/spec/vc/ob/vocab.html#achievement"][0];
  const achievementName = achievement["https://schema.org/name"][0]["@value"];
  const hasStatus = "https://www.w3.org/2018/credentials#credentialStatus" in expanded[0];
  const hasSchema = "https://www.w3.org/2018/credentials#credentialSchema" in expanded[0];
  console.log(JSON.stringify({ ok: true, kid: header.kid, expandedTypes: types, achievementName, hasStatus, hasSchema, schemaTypes }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error && error.message || error) }));
}
