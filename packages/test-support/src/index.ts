export { createSelfSignedCertificate, type SelfSignedCertificate } from "./certificate.ts";
