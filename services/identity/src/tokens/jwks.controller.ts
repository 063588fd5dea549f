import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SigningKeysService } from './signing-keys.service';

@ApiTags('tokens')
@Controller('.well-known')
export class JwksController {
  constructor(private readonly keys: SigningKeysService) {}

  @Get('jwks.json')
  @Header('cache-control', 'public, max-age=300')
  @ApiOperation({ summary: 'Public keys that verify access tokens (RFC 7517 JWK Set)' })
  @ApiOkResponse({ description: 'The JWK Set' })
  jwks() {
    return this.keys.jwks();
  }
}
