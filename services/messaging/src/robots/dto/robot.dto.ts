import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';
import type { GroupRobot } from '../robots.repository';

export class CreateRobotDto {
  @ApiProperty({ description: 'Shown as the robot’s name (1–64 characters)' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  @Matches(/\S/, { message: 'name must not be blank' })
  name!: string;
}

export class RobotResponse {
  @ApiProperty() id!: string;
  @ApiProperty() conversationId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'How its messages name their sender' }) sender!: string;
  @ApiProperty() createdBy!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ nullable: true, type: String }) keyRotatedAt!: string | null;

  static of(r: GroupRobot): RobotResponse {
    return {
      id: r.id,
      conversationId: r.conversationId,
      name: r.name,
      sender: `robot:${r.id}`,
      createdBy: r.createdBy,
      createdAt: r.createdAt.toISOString(),
      keyRotatedAt: r.keyRotatedAt?.toISOString() ?? null,
    };
  }
}

export class RobotWithKeyResponse extends RobotResponse {
  @ApiProperty({ description: 'The webhook key: shown this once, only its hash is kept' })
  key!: string;
  @ApiProperty({ description: 'Path of the webhook, key included' }) webhookUrl!: string;

  static withKey(r: GroupRobot, key: string): RobotWithKeyResponse {
    return {
      ...RobotResponse.of(r),
      key,
      webhookUrl: `/cgi-bin/webhook/send?key=${key}`,
    };
  }
}

export class RobotListResponse {
  @ApiProperty({ type: [RobotResponse] }) items!: RobotResponse[];
}
