import { BadRequestException, NotFoundException as NestNotFound } from '@nestjs/common';
import { DomainException } from './domain.exception';
import { toProblem } from './problem-details';

describe('toProblem', () => {
  it('keeps a domain exception’s code, status and field errors', () => {
    const problem = toProblem(
      new DomainException('DEPARTMENT_HAS_CHILDREN', 409, 'has children', [
        { field: 'id', code: 'x', message: 'y' },
      ]),
    );
    expect(problem).toEqual({
      type: 'https://qiwei.dev/problems/department-has-children',
      title: 'Conflict',
      status: 409,
      code: 'DEPARTMENT_HAS_CHILDREN',
      detail: 'has children',
      errors: [{ field: 'id', code: 'x', message: 'y' }],
    });
  });

  it('names unknown routes', () => {
    expect(toProblem(new NestNotFound('Cannot GET /x'))).toMatchObject({
      status: 404,
      code: 'ROUTE_NOT_FOUND',
    });
    expect(toProblem(new BadRequestException('nope'))).toMatchObject({
      status: 400,
      code: 'BAD_REQUEST',
    });
  });

  it('maps Fastify client errors by their code and hides everything else behind a 500', () => {
    expect(
      toProblem({ statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', message: 'too big' }),
    ).toMatchObject({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    });
    const internal = toProblem(new Error('password=hunter2 in a stack'));
    expect(internal).toMatchObject({ status: 500, code: 'INTERNAL_ERROR' });
    expect(JSON.stringify(internal)).not.toContain('hunter2');
  });
});
