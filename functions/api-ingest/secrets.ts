/**
 * The API key, read from Secrets Manager and kept in memory for a short while.
 *
 * The stack creates the secret empty; an operator sets the value once (the stack output
 * `medallionSetApiKeyCommand` prints this command with the secret's ARN filled in):
 *
 *     aws secretsmanager put-secret-value --secret-id <medallionApiKeySecret output> --secret-string '<key>'
 *
 * The value may be the bare key or a JSON object with an `apiKey` (or `api_key`, `key`) field, the shape
 * the console's key/value editor produces.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";

export const SECRET_KEY_FIELDS: readonly string[] = ["apiKey", "api_key", "key"];

/** The secret exists but holds no usable key (never set, empty, or a JSON object without a key field). */
export class ApiKeyMissingError extends Error {
    constructor(secretId: string, why: string) {
        super(
            `Secret ${secretId} ${why}. Set the API key with: aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string '<key>'`,
        );
        this.name = "ApiKeyMissingError";
    }
}

/** Extracts the key from a secret string. */
export function apiKeyFromSecretString(secretId: string, value: string | undefined): string {
    if (value === undefined || value.trim() === "") throw new ApiKeyMissingError(secretId, "has no value");
    const trimmed = value.trim();
    if (trimmed.startsWith("{")) {
        let parsed: unknown;
        try {
            parsed = JSON.parse(trimmed);
        } catch {
            throw new ApiKeyMissingError(secretId, "holds text that starts like JSON but does not parse");
        }
        const obj = parsed as Record<string, unknown>;
        const field = SECRET_KEY_FIELDS.find((f) => typeof obj[f] === "string" && (obj[f] as string).trim() !== "");
        if (field === undefined) throw new ApiKeyMissingError(secretId, `holds JSON without a non-empty ${SECRET_KEY_FIELDS.join("/")} field`);
        return (obj[field] as string).trim();
    }
    return trimmed;
}

export interface ApiKeyProvider {
    apiKey(): Promise<string>;
}

/** Reads the key from Secrets Manager, reusing it for `cacheSeconds` within one execution environment. */
export class SecretsManagerApiKey implements ApiKeyProvider {
    private cached: { value: string; until: number } | undefined;

    constructor(
        private readonly client: SecretsManagerClient,
        private readonly secretId: string,
        private readonly cacheSeconds: number,
        private readonly now: () => number = Date.now,
    ) {}

    async apiKey(): Promise<string> {
        if (this.cached && this.now() < this.cached.until) return this.cached.value;
        let out;
        try {
            out = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
        } catch (err) {
            // A secret created without a value has no AWSCURRENT version: Secrets Manager says ResourceNotFound.
            if (err instanceof Error && err.name === "ResourceNotFoundException") {
                throw new ApiKeyMissingError(this.secretId, "has no value yet (or does not exist)");
            }
            throw err;
        }
        const value = apiKeyFromSecretString(this.secretId, out.SecretString);
        this.cached = { value, until: this.now() + this.cacheSeconds * 1000 };
        return value;
    }

    /** Forgets the cached key, e.g. after the API rejected it (it may have been rotated). */
    invalidate(): void {
        this.cached = undefined;
    }
}
