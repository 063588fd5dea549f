import type { JWK } from 'jose';
import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** An ES256 key pair that signs access tokens; its public half is published in the JWKS. */
@Entity({ name: 'signing_keys' })
export class SigningKey {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  kid!: string;

  /** Sealed with the key-encryption key (see `SecretCipher`): `v1.<kek id>.…`. */
  @Column({ name: 'private_key_sealed', type: 'text', nullable: true })
  privateKeySealed!: string | null;

  /** Plaintext, only in rows from before sealing, until the next start seals them. */
  @Column({ name: 'private_jwk', type: 'jsonb', nullable: true })
  privateJwk!: JWK | null;

  @Column({ name: 'public_jwk', type: 'jsonb' })
  publicJwk!: JWK;

  /** `active` signs; `retired` still verifies until tokens it signed have expired. */
  @Column({ type: 'varchar', length: 16 })
  status!: 'active' | 'retired';

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
