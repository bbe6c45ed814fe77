import { IsIn, IsString, Matches, MaxLength } from 'class-validator';

export class LatestRunFileQueryDto {
  @Matches(/^[A-Za-z0-9_-]{1,64}$/)
  workflowId!: string;

  @IsIn(['input', 'output'])
  direction!: 'input' | 'output';

  @IsString()
  @MaxLength(255)
  filename!: string;
}
