"""SMKI: certificate authorities, organisation and device certificates, revocation, key store."""
