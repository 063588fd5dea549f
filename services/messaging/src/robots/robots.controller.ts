import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, type Principal } from '@qiwei/auth';
import { UuidPipe } from '../http/uuid.pipe';
import {
  CreateRobotDto,
  RobotListResponse,
  RobotResponse,
  RobotWithKeyResponse,
} from './dto/robot.dto';
import { RobotsService } from './robots.service';

// Not @Idempotent(): a replayed answer would have to keep the key, and only its hash is kept.
@ApiTags('group robots')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1/conversations/:id/robots')
export class RobotsController {
  constructor(private readonly robots: RobotsService) {}

  @Post()
  @ApiOperation({
    summary: 'Add a robot to a group (owner or admins); its webhook key is shown this once',
  })
  @ApiCreatedResponse({ type: RobotWithKeyResponse })
  async add(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Body() body: CreateRobotDto,
  ): Promise<RobotWithKeyResponse> {
    const { robot, key } = await this.robots.add(caller, id, body.name);
    return RobotWithKeyResponse.withKey(robot, key);
  }

  @Get()
  @ApiOperation({ summary: 'The group’s robots, without keys (owner or admins)' })
  @ApiOkResponse({ type: RobotListResponse })
  async list(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
  ): Promise<RobotListResponse> {
    return { items: (await this.robots.list(caller, id)).map((r) => RobotResponse.of(r)) };
  }

  @Post(':robotId/key')
  @HttpCode(200)
  @ApiOperation({ summary: 'Give the robot a new webhook key; the old one stops working' })
  @ApiOkResponse({ type: RobotWithKeyResponse })
  async rotateKey(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Param('robotId', UuidPipe) robotId: string,
  ): Promise<RobotWithKeyResponse> {
    const { robot, key } = await this.robots.rotateKey(caller, id, robotId);
    return RobotWithKeyResponse.withKey(robot, key);
  }

  @Delete(':robotId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete the robot; its key stops working' })
  @ApiNoContentResponse()
  async remove(
    @CurrentPrincipal() caller: Principal,
    @Param('id', UuidPipe) id: string,
    @Param('robotId', UuidPipe) robotId: string,
  ): Promise<void> {
    await this.robots.remove(caller, id, robotId);
  }
}
