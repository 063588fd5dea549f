import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiQuery, ApiTags } from '@nestjs/swagger';
import { WecomAccessTokenGuard } from './wecom-access-token.guard';

/** A WeCom-compatible controller: `?access_token=` of an app, under the `wecom` OpenAPI tag. */
export const WecomApi = () =>
  applyDecorators(
    ApiTags('wecom'),
    UseGuards(WecomAccessTokenGuard),
    ApiQuery({
      name: 'access_token',
      required: true,
      description:
        'The app’s token from identity’s /cgi-bin/gettoken (errcode 41001 missing, 40014 invalid, 42001 expired)',
    }),
  );
