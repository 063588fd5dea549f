import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem-details';

/** The one place HTTP error responses are built. Controllers only throw. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    sendProblem(this.logger, exception, request, reply);
  }
}

export function sendProblem(
  logger: Logger,
  exception: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const body = { ...toProblem(exception), instance: request.url };
  if (body.status >= 500) {
    logger.error({ err: exception, method: request.method, url: request.url }, 'request failed');
  }
  void reply.status(body.status).header('content-type', PROBLEM_CONTENT_TYPE).send(body);
}
