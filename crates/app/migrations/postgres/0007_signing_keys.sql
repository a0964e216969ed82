-- The deployment's Ed25519 keys for signing credentials. The newest unretired key signs; retired
-- keys stay published in the DID document so credentials they signed still verify.
CREATE TABLE signing_keys (
    id                    TEXT PRIMARY KEY,
    public_key_multibase  TEXT NOT NULL,
    private_key_multibase TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    retired_at            TEXT NULL
);
